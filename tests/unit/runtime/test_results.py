"""results: the intent-carrying errors, Result.merge, the decide() table (Flux requeue rules, jitter
bounds), and finalize_status() adjusting Reconciling/Stalled/observedGeneration before the Ready summary.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.api import meta
from gotk.runtime import conditions, results
from gotk.runtime.results import Decision, Result

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
ARTIFACT = "ArtifactInStorage"
FETCH_FAILED = "FetchFailed"
TABLE = conditions.ConditionTable(
    summarize=(FETCH_FAILED, ARTIFACT, meta.STALLED, meta.RECONCILING),
    negative_polarity=(FETCH_FAILED, meta.STALLED, meta.RECONCILING),
)


# -- errors and results -----------------------------------------------------------------------------


def test_errors_carry_reason_message_and_intent() -> None:
    stalling = results.StallingError(meta.INVALID_URL, "bad url")
    waiting = results.WaitingError(meta.DEPENDENCY_NOT_READY, "dep not ready", 30)
    generic = results.GenericError(meta.BUILD_FAILED, "kustomize build failed")
    assert (stalling.reason, stalling.message, str(stalling)) == ("InvalidURL", "bad url", "bad url")
    assert waiting.requeue_after == 30
    assert (generic.event_type, generic.ignore) == ("Warning", False)
    assert results.GenericError("R", "m", "Normal", ignore=True).event_type == "Normal"
    assert repr(stalling) == "StallingError(reason='InvalidURL', message='bad url')"
    assert all(isinstance(e, results.ReconcileError) for e in (stalling, waiting, generic))


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        (Result(), Result(), Result()),
        (Result(), results.REQUEUE, results.REQUEUE),
        (Result(requeue_after=30), Result(requeue_after=5), Result(requeue_after=5)),
        (Result(), Result(requeue_after=5), Result(requeue_after=5)),
        (Result(success=False, requeue_after=10), Result(), Result(success=False, requeue_after=10)),
    ],
)
def test_result_merge(a: Result, b: Result, want: Result) -> None:
    assert a.merge(b) == want
    assert b.merge(a) == want


def test_success_and_requeue_constants() -> None:
    assert results.SUCCESS == Result() and results.SUCCESS.success
    assert results.REQUEUE.immediate_requeue and not results.SUCCESS.immediate_requeue


# -- decide -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "error", "retry_interval", "want"),
    [
        pytest.param(Result(), None, None, Decision(requeue_after=60, forget=True), id="success-interval"),
        pytest.param(Result(requeue_after=5), None, None, Decision(requeue_after=5, forget=True), id="explicit-after"),
        pytest.param(results.REQUEUE, None, None, Decision(rate_limited=True), id="requeue-backs-off"),
        pytest.param(
            Result(success=False, requeue_after=3), None, None, Decision(requeue_after=3, forget=True), id="not-done"
        ),
        pytest.param(Result(), results.StallingError("R", "m"), None, Decision(forget=True), id="stalling"),
        pytest.param(Result(), results.StallingError("R", "m"), 10, Decision(forget=True), id="stalling-ignores-retry"),
        pytest.param(
            Result(), results.WaitingError("R", "m", 30), None, Decision(requeue_after=30, forget=True), id="waiting"
        ),
        pytest.param(
            Result(), results.WaitingError("R", "m"), None, Decision(requeue_after=60, forget=True), id="waiting-0"
        ),
        pytest.param(Result(), results.GenericError("R", "m"), None, Decision(rate_limited=True), id="generic"),
        pytest.param(
            Result(), results.GenericError("R", "m"), 10, Decision(requeue_after=10, forget=True), id="generic-retry"
        ),
        pytest.param(
            Result(),
            results.GenericError("R", "m", ignore=True),
            None,
            Decision(requeue_after=60, forget=True),
            id="generic-ignored",
        ),
        pytest.param(Result(), RuntimeError("boom"), None, Decision(rate_limited=True), id="unexpected"),
        pytest.param(
            Result(), RuntimeError("boom"), 10, Decision(requeue_after=10, forget=True), id="unexpected-retry"
        ),
    ],
)
def test_decide(result: Result, error: Exception | None, retry_interval: float | None, want: Decision) -> None:
    got = results.decide(result, error, interval=60, retry_interval=retry_interval, jitter_percent=0)
    assert got == want


def test_decide_without_interval_does_not_requeue_on_success() -> None:
    assert results.decide(Result(), None, interval=None) == Decision(forget=True)


@given(seed=st.integers(min_value=0, max_value=2**32), percent=st.floats(min_value=0, max_value=50))
def test_decide_jitters_the_success_interval(seed: int, percent: float) -> None:
    got = results.decide(Result(), None, interval=600, jitter_percent=percent, rng=random.Random(seed))
    assert got.forget and not got.rate_limited
    assert got.requeue_after is not None
    assert abs(got.requeue_after - 600) <= 600 * percent / 100 + 1e-6


def test_decide_only_jitters_the_success_interval() -> None:
    rng = random.Random(1)
    assert results.decide(Result(), results.WaitingError("R", "m", 30), interval=60, rng=rng).requeue_after == 30
    assert results.decide(Result(requeue_after=7), None, interval=60, rng=rng).requeue_after == 7


# -- finalize_status --------------------------------------------------------------------------------


def reconciling_object(*, generation: int = 2) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "kind": "GitRepository",
        "metadata": {"name": "a", "namespace": "ns", "generation": generation},
        "status": {"observedGeneration": 1},
    }
    conditions.mark_reconciling(obj, meta.PROGRESSING, "reconciliation in progress", now=T0)
    conditions.mark_unknown(obj, meta.READY, meta.PROGRESSING, "reconciliation in progress", now=T0)
    return obj


def test_finalize_success_drops_reconciling_and_observes_generation() -> None:
    obj = reconciling_object()
    conditions.mark_true(obj, ARTIFACT, meta.SUCCEEDED, "stored", now=T0)
    results.finalize_status(obj, TABLE, result=Result(), error=None, now=T0)
    assert [c["type"] for c in obj["status"]["conditions"]] == [meta.READY, ARTIFACT]
    assert conditions.is_ready(obj) and conditions.get_message(obj, meta.READY) == "stored"
    assert obj["status"]["observedGeneration"] == 2


def test_finalize_generic_error_retries_and_keeps_generation_unobserved() -> None:
    obj = reconciling_object()
    conditions.mark_true(obj, FETCH_FAILED, "GitOperationFailed", "clone failed", now=T0)
    results.finalize_status(obj, TABLE, result=Result(), error=results.GenericError("GitOperationFailed", "x"), now=T0)
    assert conditions.get_reason(obj, meta.RECONCILING) == meta.PROGRESSING_WITH_RETRY
    assert conditions.get_message(obj, meta.RECONCILING) == "reconciliation in progress"
    assert conditions.is_false(obj, meta.READY) and conditions.get_reason(obj, meta.READY) == "GitOperationFailed"
    assert obj["status"]["observedGeneration"] == 1


def test_finalize_error_without_failure_condition_leaves_ready_unknown() -> None:
    obj = reconciling_object()
    results.finalize_status(obj, TABLE, result=Result(), error=RuntimeError("boom"), now=T0)
    assert conditions.is_unknown(obj, meta.READY)
    assert conditions.get_reason(obj, meta.READY) == meta.PROGRESSING_WITH_RETRY


def test_finalize_stalling_marks_stalled_and_observes_generation() -> None:
    obj = reconciling_object()
    error = results.StallingError(meta.INVALID_URL, "URL must be https")
    results.finalize_status(obj, TABLE, result=Result(), error=error, now=T0)
    assert conditions.get(obj, meta.RECONCILING) is None
    assert conditions.is_stalled(obj) and conditions.get_reason(obj, meta.STALLED) == meta.INVALID_URL
    assert conditions.is_false(obj, meta.READY) and conditions.get_message(obj, meta.READY) == "URL must be https"
    assert obj["status"]["observedGeneration"] == 2


def test_finalize_clears_an_old_stalled_on_success() -> None:
    obj = reconciling_object()
    conditions.set_condition(obj, type_=meta.STALLED, status="True", reason="Old", message="", now=T0)
    conditions.mark_true(obj, ARTIFACT, meta.SUCCEEDED, "stored", now=T0)
    results.finalize_status(obj, TABLE, result=Result(), error=None, now=T0)
    assert conditions.get(obj, meta.STALLED) is None and conditions.is_ready(obj)


@pytest.mark.parametrize(
    ("result", "error"),
    [
        (results.REQUEUE, None),
        (Result(success=False, requeue_after=5), None),
        (Result(), results.WaitingError(meta.DEPENDENCY_NOT_READY, "dependency not ready", 30)),
    ],
)
def test_finalize_unfinished_outcomes_keep_reconciling(result: Result, error: Exception | None) -> None:
    obj = reconciling_object()
    conditions.set_condition(obj, type_=meta.STALLED, status="True", reason="Old", message="", now=T0)
    results.finalize_status(obj, TABLE, result=result, error=error, now=T0)
    assert conditions.get(obj, meta.STALLED) is None
    assert conditions.get_reason(obj, meta.RECONCILING) == meta.PROGRESSING_WITH_RETRY
    assert conditions.is_unknown(obj, meta.READY)
    assert obj["status"]["observedGeneration"] == 1


def test_finalize_ignored_error_counts_as_done() -> None:
    obj = reconciling_object()
    conditions.mark_true(obj, ARTIFACT, meta.SUCCEEDED, "stored", now=T0)
    error = results.GenericError("NoOp", "nothing to do", ignore=True)
    results.finalize_status(obj, TABLE, result=Result(), error=error, now=T0)
    assert conditions.get(obj, meta.RECONCILING) is None
    assert conditions.is_ready(obj)
    assert obj["status"]["observedGeneration"] == 2


def test_finalize_does_not_observe_generation_without_conditions() -> None:
    obj: dict[str, Any] = {"metadata": {"name": "a", "generation": 2}}
    results.finalize_status(obj, TABLE, result=Result(), error=None, now=T0)
    assert "observedGeneration" not in obj.get("status", {})
