"""Object health as Flux's health checks see it: kstatus (`compute`) or a `healthCheckExprs` entry (CEL).

`status_of(obj, checks)` picks the rule: the custom check for the object's group and kind, else kstatus
(Jobs always keep their own rule, as in Flux). `gotk.ssa.wait` calls it with objects from the watch cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from gotk.api import meta
from gotk.kube.resources import split_api_version
from gotk.runtime import cel
from gotk.ssa.kstatus import (
    CURRENT,
    FAILED,
    IN_PROGRESS,
    NOT_FOUND,
    TERMINATING,
    UNKNOWN,
    ObjStatus,
    Status,
    compute,
    field,
    rule_key,
)

__all__ = [
    "CURRENT",
    "FAILED",
    "IN_PROGRESS",
    "NOT_FOUND",
    "TERMINATING",
    "UNKNOWN",
    "ObjStatus",
    "Status",
    "check_from_spec",
    "compute",
    "evaluate_custom",
    "match_check",
    "status_of",
    "validate_checks",
]

View = Mapping[str, Any]


def check_from_spec(spec: Mapping[str, Any]) -> meta.CustomHealthCheck:
    """A `healthCheckExprs[]` entry as it appears in a Kustomization or HelmRelease spec."""
    return meta.CustomHealthCheck(
        api_version=str(spec.get("apiVersion") or ""),
        kind=spec.get("kind") or None,
        current=str(spec.get("current") or ""),
        in_progress=spec.get("inProgress") or None,
        failed=spec.get("failed") or None,
    )


def validate_checks(checks: Iterable[meta.CustomHealthCheck]) -> None:
    """Raise ValueError for what Flux rejects up front: no `current`, a parse error, a duplicate group/kind."""
    seen: set[tuple[str, str]] = set()
    for i, check in enumerate(checks):
        key = (split_api_version(check.api_version)[0], check.kind or "")
        if key in seen:
            raise ValueError(f"duplicate custom health check for {_group_kind_text(*key)} at healthchecks[{i}]")
        seen.add(key)
        if not check.current:
            raise ValueError(f"healthchecks[{i}]: expression Current not specified")
        for expr in (check.in_progress, check.failed, check.current):
            if expr:
                try:
                    cel.compile_expression(expr)
                except cel.CelError as exc:
                    raise ValueError(f"healthchecks[{i}]: {exc}") from exc


def match_check(api_version: str, kind: str, checks: Sequence[meta.CustomHealthCheck]) -> meta.CustomHealthCheck | None:
    """The check for this group/kind: an entry naming the kind wins over a group-only entry; versions are ignored."""
    group = split_api_version(api_version)[0]
    group_wide = None
    for check in checks:
        if split_api_version(check.api_version)[0] != group:
            continue
        if check.kind == kind:
            return check
        if not check.kind and group_wide is None:
            group_wide = check
    return group_wide


def evaluate_custom(obj: View, check: meta.CustomHealthCheck) -> ObjStatus | None:
    """Flux's CEL status evaluator; None when `check` is not for this object's group and kind.

    An observed generation behind `metadata.generation` is InProgress; then inProgress, failed and current are
    tried in that order and the first true one decides; none true is InProgress. An expression that does not
    parse is Failed; one that fails on this object (say, a field not set yet) is Unknown, so the wait goes
    on until the timeout, as in Flux.
    """
    if match_check(str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""), [check]) is None:
        return None
    observed, generation = field(obj, "status.observedGeneration"), field(obj, "metadata.generation")
    if _plain_int(observed) and _plain_int(generation) and observed != generation:
        return ObjStatus(IN_PROGRESS, f"generation {generation} not yet observed (observed {observed})")
    order: tuple[tuple[str, str | None, Status], ...] = (
        ("inProgress", check.in_progress, IN_PROGRESS),
        ("failed", check.failed, FAILED),
        ("current", check.current, CURRENT),
    )
    for name, text, verdict in order:
        if not text:
            continue
        try:
            matched = cel.compile_expression(text).evaluate_bool(obj)
        except cel.CelError as exc:
            return ObjStatus(FAILED, str(exc))
        except cel.CelEvalError as exc:
            return ObjStatus(UNKNOWN, str(exc))
        if matched:
            return ObjStatus(verdict, f"healthCheckExprs: {name} expression is true")
    return ObjStatus(IN_PROGRESS, "healthCheckExprs: no expression is true yet")


def status_of(obj: View, checks: Sequence[meta.CustomHealthCheck] = (), *, now: datetime | None = None) -> ObjStatus:
    """The status Flux's health check sees: the matching custom check if any (Jobs keep their rule), else kstatus."""
    api_version, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
    if checks and rule_key(obj) != "batch/Job":
        check = match_check(api_version, kind, checks)
        if check is not None:
            result = evaluate_custom(obj, check)
            if result is not None:
                return result
    return compute(obj, now=now)


def _plain_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _group_kind_text(group: str, kind: str) -> str:
    return f"{kind}.{group}" if group and kind else kind or group
