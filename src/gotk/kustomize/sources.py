"""Finding a Kustomization's source and checking its dependencies, from the controller's watch caches.

Pure lookups over informer stores: no API calls on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gotk.api import meta
from gotk.kube.resources import (
    BUCKETS,
    EXTERNALARTIFACTS,
    GITREPOSITORIES,
    OCIREPOSITORIES,
    Resource,
)
from gotk.runtime import conditions, dependencies
from gotk.runtime.informer import Informer

Obj = dict[str, Any]

SOURCE_KINDS: dict[str, Resource] = {
    "GitRepository": GITREPOSITORIES,
    "OCIRepository": OCIREPOSITORIES,
    "Bucket": BUCKETS,
    "ExternalArtifact": EXTERNALARTIFACTS,
}


def source_ref(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name) of spec.sourceRef, the namespace defaulting to the Kustomization's."""
    ref = (obj.get("spec") or {}).get("sourceRef") or {}
    ns = ref.get("namespace") or (obj.get("metadata") or {}).get("namespace") or ""
    return str(ref.get("kind") or ""), str(ns), str(ref.get("name") or "")


def dependency_refs(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    own_ns = (obj.get("metadata") or {}).get("namespace") or ""
    return [(d.get("namespace") or own_ns, d["name"]) for d in (obj.get("spec") or {}).get("dependsOn") or []]


def dependency_problem(
    dep: Obj | None,
    ref: tuple[str, str],
    *,
    obj: Mapping[str, Any] | None = None,
    revision: str | None = None,
    ready_expr: str | None = None,
) -> str | None:
    """Why dependency `ref` is not ready (None when it is), as Flux's checkDependencies decides: the built-in
    check of `gotk.runtime.dependencies`, and, when it shares `obj`'s source, last applied at `revision` (the
    artifact `obj` is about to apply)."""

    def same_revision(found: Mapping[str, Any]) -> str | None:
        same_source = obj is not None and source_ref(found) == source_ref(obj)
        applied = (found.get("status") or {}).get("lastAppliedRevision")
        if same_source and revision is not None and applied != revision:
            return f"dependency '{ref[0]}/{ref[1]}' revision is not up to date"
        return None

    return dependencies.problem(dep, ref, obj=obj, ready_expr=ready_expr, also=same_revision)


def artifact_of(source: Obj | None) -> Obj | None:
    art = ((source or {}).get("status") or {}).get("artifact")
    return art if isinstance(art, dict) and art.get("url") and art.get("digest") else None


def source_informers(informers: Mapping[str, Informer], kind: str) -> Informer | None:
    return informers.get(kind)


def ready_changed(old: Obj | None, new: Obj | None) -> bool:
    def view(o: Obj | None) -> tuple[Any, ...]:
        if o is None:
            return (None,)
        c = conditions.get(o, meta.READY) or {}
        s = o.get("status") or {}
        return (c.get("status"), s.get("lastAppliedRevision"), s.get("observedGeneration"))

    return view(old) != view(new)
