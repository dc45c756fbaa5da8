"""dependsOn, as Flux's controllers check it — pure: why a dependency is not ready (None when it is).

Built in: the dependency exists and is Ready=True at its current generation; a kind may add a check of its own
(a Kustomization: the same source applied at the revision about to be applied). A `readyExpr` (CEL over `dep`
and `self`) replaces both; an expression that can never work raises InvalidReadyExpr (a terminal error).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gotk.runtime import cel, conditions

Obj = dict[str, Any]
Ref = tuple[str, str]  # namespace, name


class InvalidReadyExpr(ValueError):
    """A dependsOn readyExpr that can never evaluate (a parse error or an unknown variable): terminal."""


def refs(obj: Mapping[str, Any]) -> list[tuple[Ref, str | None]]:
    """spec.dependsOn as ((namespace, name), readyExpr), the namespace defaulting to the object's own."""
    own = (obj.get("metadata") or {}).get("namespace") or ""
    out: list[tuple[Ref, str | None]] = []
    for dep in (obj.get("spec") or {}).get("dependsOn") or []:
        out.append(((str(dep.get("namespace") or own), str(dep["name"])), dep.get("readyExpr")))
    return out


def problem(
    dep: Mapping[str, Any] | None,
    ref: Ref,
    *,
    obj: Mapping[str, Any] | None = None,
    ready_expr: str | None = None,
    also: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> str | None:
    """Why dependency `ref` is not ready, None when it is (`also`: the kind's own check after the built-in)."""
    ns, name = ref
    if dep is None:
        return f"dependency '{ns}/{name}' not found"
    if ready_expr:
        return _ready_expr_problem(ready_expr, dep, obj or {}, ref)
    status = dep.get("status") or {}
    generation = (dep.get("metadata") or {}).get("generation")
    if not status.get("conditions") or status.get("observedGeneration") != generation or not conditions.is_ready(dep):
        return f"dependency '{ns}/{name}' is not ready"
    return also(dep) if also is not None else None


def _ready_expr_problem(text: str, dep: Mapping[str, Any], obj: Mapping[str, Any], ref: Ref) -> str | None:
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
