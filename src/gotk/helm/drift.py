"""Drift detection of a HelmRelease (spec.driftDetection) — the objects of a release manifest, and the messages
Flux writes; the comparison and the correction themselves are `gotk.ssa.diff`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import yaml

from gotk.api import helm_conditions as hc
from gotk.ssa import diff
from gotk.ssa import ignore as ignore_rules

Obj = dict[str, Any]
EXCLUSIONS = {hc.DRIFT_DETECTION_KEY: "disabled"}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def release_objects(manifest: str, name: str, namespace: str) -> list[Obj]:
    """The objects of a release manifest as Helm applied them: with the ownership metadata Helm adds at apply
    time (`app.kubernetes.io/managed-by: Helm`, `meta.helm.sh/release-name` and `-namespace`), and each object
    without a namespace put in the release's (dropped again for cluster-scoped kinds when compared)."""
    out: list[Obj] = []
    for doc in yaml.load_all(manifest, Loader=_LOADER):
        if not isinstance(doc, dict) or not doc.get("kind"):
            continue
        meta = doc.get("metadata")
        if not isinstance(meta, dict):
            meta = doc["metadata"] = {}
        if not meta.get("namespace"):
            meta["namespace"] = namespace
        meta["labels"] = {**(meta.get("labels") or {}), "app.kubernetes.io/managed-by": "Helm"}
        meta["annotations"] = {
            **(meta.get("annotations") or {}),
            "meta.helm.sh/release-name": name,
            "meta.helm.sh/release-namespace": namespace,
        }
        out.append(doc)
    return out


def ignore(spec: Obj) -> Callable[[Obj], list[str]] | None:
    """driftDetection.ignore as a function from an object to its ignored JSON Pointer paths."""
    rules = (spec.get("driftDetection") or {}).get("ignore") or []
    if not rules:
        return None
    return lambda obj: ignore_rules.paths_for(rules, obj)


def detected_message(release: str, drifts: Sequence[diff.Drift]) -> str:
    return f"Cluster state of release {release} has drifted from the desired state:\n{diff.summary(drifts)}"


def corrected_message(release: str, done: Sequence[str]) -> str:
    return f"Cluster state of release {release} has been corrected:\n" + "\n".join(done)


def failed_message(release: str, errors: Sequence[str], done: Sequence[str]) -> str:
    text = f"Failed to {'partially ' if done else ''}correct cluster state of release {release}:\n" + "\n".join(errors)
    if done:
        text += "\n\nSuccessful corrections:\n" + "\n".join(done)
    return text
