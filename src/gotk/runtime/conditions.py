"""The only code that writes `status.conditions` of a Kubernetes object held as a plain JSON dict.

Reconciler steps mark the conditions they own (`mark_true`, `mark_false`, `mark_reconciling`, …);
the deferred summarize step derives Ready from the kind's `ConditionTable` with `summarize()`, following
Flux's runtime/conditions merge rules plus the kstatus rules (Reconciling ⇒ Ready Unknown, Stalled ⇒
Ready False). Readers (CLI, health checks, metrics) use `get`/`is_ready`/`is_stalled`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from gotk.api import meta

__all__ = [
    "FALSE",
    "TRUE",
    "UNKNOWN",
    "ConditionTable",
    "delete",
    "get",
    "get_message",
    "get_reason",
    "handle_annotation_request",
    "is_false",
    "is_ready",
    "is_reconciling",
    "is_stalled",
    "is_true",
    "is_unknown",
    "mark_false",
    "mark_reconciling",
    "mark_stalled",
    "mark_true",
    "mark_unknown",
    "reconcile_requested",
    "set_condition",
    "set_last_handled_reconcile_at",
    "set_observed_generation",
    "summarize",
]

Obj = MutableMapping[str, Any]
View = Mapping[str, Any]  # readers accept any mapping
Condition = dict[str, Any]

TRUE: Final = "True"
FALSE: Final = "False"
UNKNOWN: Final = "Unknown"

# Stalled, Reconciling and Ready lead the list (Flux's conditionWeights); the rest sort by type.
_LEADING: Final = {meta.STALLED: 0, meta.RECONCILING: 1, meta.READY: 2}
# kstatus negative-polarity conditions: present only while True.
_ONLY_WHILE_TRUE: Final = frozenset({meta.RECONCILING, meta.STALLED})


@dataclass(frozen=True)
class ConditionTable:
    """A kind's condition table, as Flux's `summarize.Conditions`.

    `summarize` lists the conditions Ready is computed from, in priority order (the first one in the
    winning group supplies reason and message); `negative_polarity` lists the "abnormal-true" ones;
    `owned` lists every condition the reconciler writes (used by the status patcher). `success` gives Ready's
    reason and message when the reconcile succeeded and no summarized condition says otherwise (Kustomization:
    `ReconciliationSucceeded`, `Applied revision: …`); without it the summary alone speaks. `summarize_for`,
    when set, gives the summary per object instead of `summarize` (a HelmRelease summarizes TestSuccess only
    when its tests are enabled and their failures not ignored).
    """

    target: str = meta.READY
    owned: tuple[str, ...] = ()
    summarize: tuple[str, ...] = ()
    negative_polarity: tuple[str, ...] = (meta.RECONCILING, meta.STALLED)
    success: Callable[[View], tuple[str, str]] | None = None
    summarize_for: Callable[[View], tuple[str, ...]] | None = None

    def summary(self, obj: View) -> tuple[str, ...]:
        """The conditions Ready is computed from for this object, in priority order."""
        return self.summarize_for(obj) if self.summarize_for is not None else self.summarize


# -- reading ----------------------------------------------------------------------------------------


def _conditions(obj: View) -> list[Condition]:
    status = obj.get("status")
    if not isinstance(status, Mapping):
        return []
    found = status.get("conditions")
    return found if isinstance(found, list) else []


def get(obj: View, type_: str) -> Condition | None:
    """The condition of `type_`, or None. The dict returned is the stored one; do not mutate it."""
    for condition in _conditions(obj):
        if condition.get("type") == type_:
            return condition
    return None


def _has_status(obj: View, type_: str, status: str) -> bool:
    condition = get(obj, type_)
    return condition is not None and condition.get("status") == status


def is_true(obj: View, type_: str) -> bool:
    return _has_status(obj, type_, TRUE)


def is_false(obj: View, type_: str) -> bool:
    return _has_status(obj, type_, FALSE)


def is_unknown(obj: View, type_: str) -> bool:
    """True when the condition is Unknown or absent (as Flux's IsUnknown)."""
    condition = get(obj, type_)
    return condition is None or condition.get("status") == UNKNOWN


def get_reason(obj: View, type_: str) -> str:
    condition = get(obj, type_)
    return str(condition.get("reason", "")) if condition is not None else ""


def get_message(obj: View, type_: str) -> str:
    condition = get(obj, type_)
    return str(condition.get("message", "")) if condition is not None else ""


def is_ready(obj: View) -> bool:
    return is_true(obj, meta.READY)


def is_stalled(obj: View) -> bool:
    return is_true(obj, meta.STALLED)


def is_reconciling(obj: View) -> bool:
    return is_true(obj, meta.RECONCILING)


# -- writing ----------------------------------------------------------------------------------------


def _timestamp(now: datetime | None) -> str:
    moment = (now if now is not None else datetime.now(UTC)).astimezone(UTC)
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sort_key(condition: Condition) -> tuple[int, str]:
    type_ = str(condition.get("type", ""))
    return (_LEADING.get(type_, len(_LEADING)), type_)


def set_condition(obj: Obj, *, type_: str, status: str, reason: str, message: str, now: datetime | None = None) -> None:
    """Set one condition; `lastTransitionTime` changes only when `status` changes.

    `observedGeneration` is always metadata.generation; reason and message are always updated.
    Reconciling and Stalled exist only while True, so setting them False or Unknown deletes them.
    """
    if status not in (TRUE, FALSE, UNKNOWN):
        raise ValueError(f"condition status must be True, False or Unknown, got {status!r}")
    if type_ in _ONLY_WHILE_TRUE and status != TRUE:
        delete(obj, type_)
        return
    condition: Condition = {"type": type_, "status": status}
    generation = obj.get("metadata", {}).get("generation")
    if generation is not None:
        condition["observedGeneration"] = int(generation)
    existing = get(obj, type_)
    if existing is not None and existing.get("status") == status and "lastTransitionTime" in existing:
        condition["lastTransitionTime"] = existing["lastTransitionTime"]
    else:
        condition["lastTransitionTime"] = _timestamp(now)
    condition["reason"] = reason
    condition["message"] = message

    status_ = obj.setdefault("status", {})
    current = [c for c in _conditions(obj) if c.get("type") != type_]
    current.append(condition)
    current.sort(key=_sort_key)
    status_["conditions"] = current


def mark_true(obj: Obj, type_: str, reason: str, message: str, *, now: datetime | None = None) -> None:
    set_condition(obj, type_=type_, status=TRUE, reason=reason, message=message, now=now)


def mark_false(obj: Obj, type_: str, reason: str, message: str, *, now: datetime | None = None) -> None:
    set_condition(obj, type_=type_, status=FALSE, reason=reason, message=message, now=now)


def mark_unknown(obj: Obj, type_: str, reason: str, message: str, *, now: datetime | None = None) -> None:
    set_condition(obj, type_=type_, status=UNKNOWN, reason=reason, message=message, now=now)


def mark_reconciling(obj: Obj, reason: str, message: str, *, now: datetime | None = None) -> None:
    """Reconciling=True and no Stalled (negative polarity: present only while True)."""
    delete(obj, meta.STALLED)
    mark_true(obj, meta.RECONCILING, reason, message, now=now)


def mark_stalled(obj: Obj, reason: str, message: str, *, now: datetime | None = None) -> None:
    """Stalled=True and no Reconciling (negative polarity: present only while True)."""
    delete(obj, meta.RECONCILING)
    mark_true(obj, meta.STALLED, reason, message, now=now)


def delete(obj: Obj, type_: str) -> None:
    """Remove the condition of `type_`, if any."""
    current = _conditions(obj)
    if any(c.get("type") == type_ for c in current):
        obj["status"]["conditions"] = [c for c in current if c.get("type") != type_]


# -- summarizing ------------------------------------------------------------------------------------


def _priority(condition: Condition, negative: tuple[str, ...]) -> int:
    """Flux merge priority: 0 True/negative, 1 False/positive, 2 True/positive, 3 False/negative, 4 Unknown."""
    is_negative = str(condition.get("type")) in negative
    match condition.get("status"):
        case "True":
            return 0 if is_negative else 2
        case "False":
            return 3 if is_negative else 1
        case _:
            return 4


def _first_by_order(candidates: list[Condition], order: tuple[str, ...]) -> Condition:
    for type_ in order:
        for condition in candidates:
            if condition.get("type") == type_:
                return condition
    return candidates[0]


def _merge(obj: Obj, table: ConditionTable) -> tuple[str, str, str] | None:
    """Flux's summary(): group in-scope conditions by priority, take the top group, invert polarity."""
    summary = table.summary(obj)
    in_scope = [c for c in _conditions(obj) if c.get("type") != table.target and c.get("type") in summary]
    if not in_scope:
        return None
    top = min(_priority(c, table.negative_polarity) for c in in_scope)
    group = [c for c in in_scope if _priority(c, table.negative_polarity) == top]
    first = _first_by_order(group, summary)
    reason, message = str(first.get("reason", "")), str(first.get("message", ""))
    if top == 4:
        return UNKNOWN, reason, message
    group_negative = top in (0, 3)
    group_true = top in (0, 2)
    target_negative = table.target in table.negative_polarity
    status_true = group_true if group_negative == target_negative else not group_true
    return (TRUE if status_true else FALSE), reason, message


def _first_negative_true(obj: Obj, table: ConditionTable, *, skip: str) -> Condition | None:
    summary = table.summary(obj)
    order = summary + tuple(t for t in table.negative_polarity if t not in summary)
    for type_ in order:
        if type_ in (skip, table.target) or type_ not in table.negative_polarity:
            continue
        if is_true(obj, type_):
            return get(obj, type_)
    return None


def summarize(obj: Obj, table: ConditionTable, *, now: datetime | None = None) -> str | None:
    """Compute `table.target` (Ready) from the table, then apply the kstatus rules.

    1. Stalled=True ⇒ Ready=False (reason/message of the first True negative-polarity condition in
       summarize order, else Stalled's own).
    2. Reconciling=True ⇒ Ready=Unknown with Reconciling's reason/message, unless another
       negative-polarity condition is True: then Ready=False with that condition's reason/message.
    3. Otherwise Flux's merge: top priority group wins, polarity inverted against the target.
       With no condition in scope the target is left as it is.

    Returns the status the target was given, None when it was left as it is.
    """
    outcome: tuple[str, str, str] | None
    stalled = get(obj, meta.STALLED)
    if table.target == meta.READY and stalled is not None and stalled.get("status") == TRUE:
        worst = _first_negative_true(obj, table, skip=meta.RECONCILING) or stalled
        outcome = FALSE, str(worst.get("reason", "")), str(worst.get("message", ""))
    elif table.target == meta.READY and is_reconciling(obj):
        culprit = _first_negative_true(obj, table, skip=meta.RECONCILING)
        if culprit is not None:
            outcome = FALSE, str(culprit.get("reason", "")), str(culprit.get("message", ""))
        else:
            outcome = UNKNOWN, get_reason(obj, meta.RECONCILING), get_message(obj, meta.RECONCILING)
    else:
        outcome = _merge(obj, table)
    if outcome is None:
        return None
    status, reason, message = outcome
    set_condition(obj, type_=table.target, status=status, reason=reason, message=message, now=now)
    return status


# -- status bookkeeping -----------------------------------------------------------------------------


def set_observed_generation(obj: Obj) -> None:
    """status.observedGeneration = metadata.generation (call only when this generation was handled)."""
    generation = obj.get("metadata", {}).get("generation")
    if generation is not None:
        obj.setdefault("status", {})["observedGeneration"] = int(generation)


def _requested_at(obj: View) -> str | None:
    annotations = obj.get("metadata", {}).get("annotations") or {}
    value = annotations.get(meta.RECONCILE_REQUEST_ANNOTATION)
    return str(value) if value is not None else None


def reconcile_requested(obj: View) -> bool:
    """True when the requestedAt annotation holds a value not yet recorded as handled."""
    requested = _requested_at(obj)
    handled = (obj.get("status") or {}).get("lastHandledReconcileAt")
    return requested is not None and requested != handled


def handle_annotation_request(obj: Obj, annotation: str, last_handled: str) -> bool:
    """Flux's HandleAnnotationRequest, for `reconcile.fluxcd.io/forceAt` and `resetAt`: True when the annotation
    equals requestedAt, that request is not handled yet and this value was not acted on before. The value is
    recorded in `status.<last_handled>` either way, so that a request is acted on at most once."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(annotation)
    if value is None:
        return False
    status = obj.setdefault("status", {})
    before = status.get(last_handled)
    status[last_handled] = str(value)
    requested = _requested_at(obj)
    return requested == str(value) and status.get("lastHandledReconcileAt") != requested and before != str(value)


def set_last_handled_reconcile_at(obj: Obj) -> bool:
    """Copy the `reconcile.fluxcd.io/requestedAt` annotation to status.lastHandledReconcileAt.

    Returns True when the status value changed.
    """
    requested = _requested_at(obj)
    if requested is None:
        return False
    status = obj.setdefault("status", {})
    changed: bool = status.get("lastHandledReconcileAt") != requested
    status["lastHandledReconcileAt"] = requested
    return changed
