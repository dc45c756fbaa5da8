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
from gotk.runtime import conditions
from gotk.runtime.informer import Informer
from gotk.ssa import cel

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


class InvalidReadyExpr(ValueError):
    """A dependsOn readyExpr that can never evaluate (a parse error or an unknown variable): terminal."""


def dependency_problem(
    dep: Obj | None,
    ref: tuple[str, str],
    *,
    obj: Mapping[str, Any] | None = None,
    revision: str | None = None,
    ready_expr: str | None = None,
) -> str | None:
    """Why dependency `ref` is not ready (None when it is), as Flux's checkDependencies decides.

    Built in: Ready=True at its current generation and, when it shares `obj`'s source, last applied at
    `revision` (the artifact `obj` is about to apply). A `ready_expr` (CEL over `dep` and `self`) replaces
    that check; an expression that cannot work raises InvalidReadyExpr.
    """
    ns, name = ref
    if dep is None:
        return f"dependency '{ns}/{name}' not found"
    if ready_expr:
        return _ready_expr_problem(ready_expr, dep, obj or {}, ref)
    status = dep.get("status") or {}
    generation = (dep.get("metadata") or {}).get("generation")
    if not status.get("conditions") or status.get("observedGeneration") != generation or not conditions.is_ready(dep):
        return f"dependency '{ns}/{name}' is not ready"
    same_source = obj is not None and source_ref(dep) == source_ref(obj)
    if same_source and revision is not None and status.get("lastAppliedRevision") != revision:
        return f"dependency '{ns}/{name}' revision is not up to date"
    return None


def _ready_expr_problem(text: str, dep: Obj, obj: Mapping[str, Any], ref: tuple[str, str]) -> str | None:
    try:
        expr = cel.compile_expression(text)
    except cel.CelError as exc:
        raise InvalidReadyExpr(f"failed to evaluate dependency {ref[1]}: {exc}") from None
    unknown = sorted(expr.variables - {"dep", "self"})
    if unknown:  # cel-go rejects these when compiling
        detail = f"undeclared reference to '{unknown[0]}'"
        raise InvalidReadyExpr(f"failed to evaluate dependency {ref[1]}: failed to parse '{text}': {detail}")
    try:
        ready = expr.evaluate_bool({"dep": dep, "self": obj})
    except cel.CelEvalError as exc:
        return str(exc)
    if not ready:
        return f"dependency '{ref[0]}/{ref[1]}' is not ready according to readyExpr eval"
    return None


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
