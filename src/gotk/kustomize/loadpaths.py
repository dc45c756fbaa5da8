"""Every local file or directory a kustomization refers to must stay inside the artifact.

Flux builds on a filesystem rooted at the artifact, so a kustomization may load `../patches/x.yaml` from a
sibling directory but never `/etc/passwd` or `../../../..` beyond the artifact. gotk runs kustomize without
its per-directory restriction and enforces this root instead, before the build.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

REMOTE = ("http://", "https://", "git@", "ssh://", "git::", "github.com/", "gitlab.com/", "bitbucket.org/")
# top-level keys whose entries are paths (strings)
PATH_LISTS = (
    "resources", "bases", "components", "crds", "patchesStrategicMerge", "configurations", "generators",
    "transformers", "validators",
)  # fmt: skip
GENERATORS = ("configMapGenerator", "secretGenerator")


class LoadPathError(Exception):
    """A kustomization refers to a path outside the artifact (the message names the file and the path)."""


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                yield item


def references(doc: dict[str, Any]) -> Iterator[str]:
    """The local paths a kustomization document names (remote URLs and inline content left out)."""
    for key in PATH_LISTS:
        for entry in _strings(doc.get(key)):
            if not entry.startswith(REMOTE) and "\n" not in entry:
                yield entry
    for key in ("patches", "patchesJson6902", "replacements"):
        for item in doc.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                yield item["path"]
    for key in GENERATORS:
        for gen in doc.get(key) or []:
            if not isinstance(gen, dict):
                continue
            for entry in [*_strings(gen.get("files")), *_strings(gen.get("envs")), *_strings(gen.get("env"))]:
                yield entry.split("=", 1)[1] if "=" in entry else entry
    openapi = doc.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield openapi["path"]
    helm = doc.get("helmGlobals")
    if isinstance(helm, dict) and isinstance(helm.get("chartHome"), str):
        yield helm["chartHome"]


def check_tree(tree: Path, kustomization_files: Iterable[str]) -> None:
    """Raise LoadPathError when any kustomization under `tree` names a path outside it (blocking)."""
    root = tree.resolve()
    names = set(kustomization_files)
    for current, _, files in os.walk(tree):
        for name in files:
            if name not in names:
                continue
            kfile = Path(current) / name
            try:
                docs = list(yaml.load_all(kfile.read_text(), Loader=yaml.CSafeLoader))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue  # kustomize reports an unreadable kustomization itself
            for doc in docs:
                if not isinstance(doc, dict):
                    continue
                for ref in references(doc):
                    target = (Path(current) / ref).resolve()
                    if not target.is_relative_to(root):
                        shown = kfile.relative_to(tree)
                        raise LoadPathError(f"{shown}: '{ref}' is outside the source artifact")
