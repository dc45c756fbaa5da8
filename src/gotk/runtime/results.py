"""Reconcile outcomes: errors that carry intent, the step `Result`, and the pure requeue decision.

Reconciler steps return a `Result` or raise `StallingError`, `WaitingError` or `GenericError`. The
reconcile loop then calls `finalize_status()` (Flux's ComputeReconcileResult status side, then the
Ready summary) and `decide()` to tell the work queue whether to forget, wait or back off.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from gotk.api import meta
from gotk.runtime import conditions
from gotk.runtime import queue as queues
from gotk.runtime.events import WARNING

__all__ = [
    "REQUEUE",
    "SUCCESS",
    "Decision",
    "GenericError",
    "ReconcileError",
    "Result",
    "StallingError",
    "WaitingError",
    "decide",
    "finalize_status",
    "settle",
]


class ReconcileError(Exception):
    """Base of the intent-carrying errors: a condition `reason` and a human `message`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reason={self.reason!r}, message={self.message!r})"


class StallingError(ReconcileError):
    """Terminal for this generation: retrying cannot help until the spec changes (Flux serror.Stalling)."""


class WaitingError(ReconcileError):
    """Not an error yet: retry after `requeue_after` seconds, without backoff (Flux serror.Waiting).

    `requeue_after` None (or 0) means "use the object's interval".
    """

    def __init__(self, reason: str, message: str, requeue_after: float | None = None) -> None:
        super().__init__(reason, message)
        self.requeue_after = requeue_after


class GenericError(ReconcileError):
    """A failure to retry with backoff (Flux serror.Generic).

    `event_type` is the event to emit for it; `ignore` marks a no-op error that counts as success.
    """

    def __init__(self, reason: str, message: str, event_type: str = WARNING, *, ignore: bool = False) -> None:
        super().__init__(reason, message)
        self.event_type = event_type
        self.ignore = ignore


@dataclass(frozen=True)
class Result:
    """What a reconcile step returns when it does not raise.

    `Result()` is success: requeue at the (jittered) interval. `Result(requeue_after=s)` asks for a
    requeue after `s` seconds instead. `Result(success=False)` requeues at once with backoff, and
    `Result(success=False, requeue_after=s)` after `s` seconds; neither marks the generation observed.
    """

    success: bool = True
    requeue_after: float | None = None

    @property
    def immediate_requeue(self) -> bool:
        """True for `Result(success=False)`: requeue now, with backoff."""
        return not self.success and self.requeue_after is None

    def merge(self, other: Result) -> Result:
        """The combined result of two steps: the soonest requeue wins, success needs both."""
        if self.immediate_requeue or other.immediate_requeue:
            return REQUEUE
        afters = [r.requeue_after for r in (self, other) if r.requeue_after is not None]
        return Result(success=self.success and other.success, requeue_after=min(afters) if afters else None)


SUCCESS: Final = Result()
REQUEUE: Final = Result(success=False)


@dataclass(frozen=True)
class Decision:
    """What the work queue should do with the key: forget its backoff, then one of the two requeues."""

    requeue_after: float | None = None
    rate_limited: bool = False
    forget: bool = False


def decide(
    result: Result,
    error: Exception | None,
    *,
    interval: float | None,
    retry_interval: float | None = None,
    jitter_percent: float = 5.0,
    rng: random.Random | None = None,
) -> Decision:
    """Map a reconcile outcome to a queue decision, following Flux's rules.

    - `StallingError`: no requeue, forget backoff (only a spec change brings the object back).
    - `WaitingError`: requeue after its delay (the interval when it has none), forget backoff.
    - other errors (`GenericError` or unexpected): rate-limited backoff, or after `retry_interval`
      when the kind has one; an ignored `GenericError` counts as success.
    - success: requeue after the jittered `interval` (no requeue if None), forget backoff;
      an explicit `requeue_after` is used as is.
    - `Result(success=False)` without a delay: rate-limited requeue.
    """
    match error:
        case StallingError():
            return Decision(forget=True)
        case WaitingError(requeue_after=after):
            return Decision(requeue_after=after or interval, forget=True)
        case GenericError(ignore=True) | None:
            pass
        case _:
            if retry_interval is not None:
                return Decision(requeue_after=retry_interval, forget=True)
            return Decision(rate_limited=True)
    if result.requeue_after is not None:
        return Decision(requeue_after=result.requeue_after, forget=True)
    if not result.success:
        return Decision(rate_limited=True)
    if interval is None:
        return Decision(forget=True)
    return Decision(requeue_after=queues.jittered(interval, jitter_percent, rng=rng), forget=True)


def finalize_status(
    obj: dict[str, Any],
    table: conditions.ConditionTable,
    *,
    result: Result,
    error: Exception | None,
    now: datetime | None = None,
) -> str | None:
    """Settle the status after the steps ran: Reconciling/Stalled, observedGeneration, then Ready.

    Success drops Reconciling; a Reconciling left behind becomes ProgressingWithRetry; a stalling
    error marks Stalled; any other outcome drops Stalled. The generation counts as observed on
    success, on a stalling error and on an ignored error, provided the object has conditions.
    Ready is then computed from `table` with `conditions.summarize`; returns the status it gave Ready (None:
    no condition in scope, Ready left as it was).
    """
    _apply_outcome(obj, result, error, now=now)
    return conditions.summarize(obj, table, now=now)


def settle(
    obj: dict[str, Any],
    table: conditions.ConditionTable,
    *,
    result: Result,
    error: Exception | None,
    now: datetime | None = None,
) -> None:
    """The one Ready rule, for every kind: the table's summary (`finalize_status`), then the outcome.

    - Success: the summary stands, unless it is not False and the table has a `success` (Kustomization's
      `Applied revision: …`), which then gives Ready=True its reason and message.
    - Failure: Ready=False with the error's reason (`Failed` for an error without one) and message, unless the
      step recorded the failure in a summarized condition (one of the table's, failing, with the error's
      reason) and the summary says False: then the summary speaks, as Flux's summarize does (a source's
      FetchFailed, a HelmRelease's Released=False under Remediated=True). A stale condition from an earlier
      reconcile never hides today's error.
    """
    summary = finalize_status(obj, table, result=result, error=error, now=now)
    target = table.target
    if error is None and result.success and table.success is not None and summary != conditions.FALSE:
        reason, message = table.success(obj)
        conditions.mark_true(obj, target, reason, message, now=now)
        conditions.set_observed_generation(obj)  # a success is observed; now there is a condition to show it
    if error is None:
        return
    reason = error.reason if isinstance(error, ReconcileError) else meta.FAILED
    if summary != conditions.FALSE or not _recorded(obj, table, reason):
        conditions.mark_false(obj, target, reason, str(error), now=now)


def _recorded(obj: dict[str, Any], table: conditions.ConditionTable, reason: str) -> bool:
    """Whether a summarized condition of the table is failing with `reason` (the step recorded its failure)."""
    for type_ in table.summary(obj):
        condition = conditions.get(obj, type_)
        if condition is None or condition.get("reason") != reason:
            continue
        failing = conditions.TRUE if type_ in table.negative_polarity else conditions.FALSE
        if condition.get("status") == failing:
            return True
    return False


def _apply_outcome(
    obj: dict[str, Any], result: Result, error: Exception | None, *, now: datetime | None = None
) -> None:
    if error is None and result.success:
        conditions.delete(obj, meta.RECONCILING)
    if conditions.is_reconciling(obj):
        message = conditions.get_message(obj, meta.RECONCILING)
        conditions.mark_reconciling(obj, meta.PROGRESSING_WITH_RETRY, message, now=now)

    observed = False
    match error:
        case StallingError(reason=reason, message=message):
            conditions.mark_stalled(obj, reason, message, now=now)
            observed = True
        case GenericError(ignore=True):
            conditions.delete(obj, meta.STALLED)
            conditions.delete(obj, meta.RECONCILING)
            observed = True
        case None:
            conditions.delete(obj, meta.STALLED)
            observed = result.success
        case _:
            conditions.delete(obj, meta.STALLED)
    if observed and (obj.get("status") or {}).get("conditions"):
        conditions.set_observed_generation(obj)
