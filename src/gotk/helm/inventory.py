"""status.inventory of a HelmRelease, as Flux's helm-controller records it when a release is stored: the
objects of the release manifest (hooks left out, the release namespace given to namespaced objects without
one), then the CRDs in the `crds/` directories of the chart and its subcharts, each as `{id, v}`.

`chart_crds` reads a packaged chart (.tgz) or a chart directory; `entries` needs the API server only to
learn which kinds are namespaced (a kind it cannot resolve is kept without a namespace and reported).
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.ssa import plan

Obj = dict[str, Any]
Entry = dict[str, str]
HOOK_ANNOTATION = "helm.sh/hook"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MANIFEST_EXTENSIONS = (".yaml", ".yml", ".json")


def _documents(text: str | bytes) -> list[Obj]:
    return [d for d in yaml.load_all(text, Loader=_LOADER) if isinstance(d, dict) and d.get("kind")]


def _is_hook(obj: Obj) -> bool:
    return HOOK_ANNOTATION in ((obj.get("metadata") or {}).get("annotations") or {})


def _chart_files(files: dict[str, bytes]) -> Iterator[bytes]:
    """The CRD files of one chart given as {path relative to the chart root: content}, then its subcharts'."""
    for path, data in files.items():
        if path.startswith("crds/") and path.endswith(_MANIFEST_EXTENSIONS):
            yield data
    subcharts: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        if not path.startswith("charts/"):
            continue
        rest = path[len("charts/") :]
        if "/" in rest:
            sub, inner = rest.split("/", 1)
            subcharts.setdefault(sub, {})[inner] = data
        elif rest.endswith(".tgz"):
            yield from _chart_files(_tar_files(data))
    for files_of_sub in subcharts.values():
        yield from _chart_files(files_of_sub)


def _tar_files(data: bytes) -> dict[str, bytes]:
    """The files of a packaged chart, relative to its top directory."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar:
            if not member.isfile() or "/" not in member.name:
                continue
            handle = tar.extractfile(member)
            if handle is not None:
                out[member.name.split("/", 1)[1]] = handle.read()
    return out


def _dir_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def chart_crds(chart_path: Path) -> list[Obj]:
    """The CRD objects of a chart (a .tgz or a directory) and of its subcharts, in Helm's order."""
    files = _dir_files(chart_path) if chart_path.is_dir() else _tar_files(chart_path.read_bytes())
    return [doc for data in _chart_files(files) for doc in _documents(data)]


async def entries(
    client: Client, manifest: str, release_namespace: str, crds: list[Obj]
) -> tuple[list[Entry], list[str]]:
    """The inventory entries of a release and its chart's CRDs, and warnings for kinds whose scope could not
    be learned (those objects keep no namespace, as Flux keeps them)."""
    objects = [o for o in _documents(manifest) if not _is_hook(o)]
    warnings: list[str] = []
    scope: dict[tuple[str, str], bool | None] = {}
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        if meta.get("namespace"):
            continue
        key = (str(obj.get("apiVersion")), str(obj.get("kind")))
        if key not in scope:
            try:
                scope[key] = (await client.resource_for(*key)).namespaced
            except ApiError as exc:
                scope[key] = None
                warnings.append(f"failed to determine if {key[1]} is namespace scoped, skipping namespace: {exc}")
        if scope[key]:
            meta["namespace"] = release_namespace
    return [plan.inventory_entry(o) for o in [*objects, *crds]], warnings
