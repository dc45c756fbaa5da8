"""results.settle: the one Ready rule of every kind — the table's summary, the table's success message, and
an error that wins over the summary unless the step recorded it in a summarized condition."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gotk.api import helm_conditions as hc
from gotk.api import meta
from gotk.runtime import conditions, results
from gotk.runtime.results import Result

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
SOURCE = conditions.ConditionTable(
    summarize=("FetchFailed", "ArtifactInStorage", meta.STALLED, meta.RECONCILING),
    negative_polarity=("FetchFailed", meta.STALLED, meta.RECONCILING),
)
HELM = conditions.ConditionTable(
    summarize=(hc.REMEDIATED, hc.TEST_SUCCESS, hc.RELEASED),
    negative_polarity=(hc.REMEDIATED, meta.RECONCILING, meta.STALLED),
)
KUSTOMIZATION = conditions.ConditionTable(
    summarize=(meta.HEALTHY,),
    success=lambda obj: (meta.RECONCILIATION_SUCCEEDED, f"Applied revision: {obj['status']['lastAppliedRevision']}"),
)


def fresh(**status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "a", "namespace": "ns", "generation": 3}, "status": dict(status)}


def ready(obj: dict[str, Any]) -> tuple[str, str, str]:
    condition = conditions.get(obj, meta.READY) or {}
    return condition.get("status", ""), condition.get("reason", ""), condition.get("message", "")


def test_success_takes_the_tables_message_and_observes_the_generation() -> None:
    obj = fresh(lastAppliedRevision="main@sha1:abc", observedGeneration=2)
    conditions.mark_true(obj, meta.HEALTHY, meta.SUCCEEDED, "Health check passed", now=T0)
    results.settle(obj, KUSTOMIZATION, result=Result(), error=None, now=T0)
    assert ready(obj) == ("True", meta.RECONCILIATION_SUCCEEDED, "Applied revision: main@sha1:abc")
    assert obj["status"]["observedGeneration"] == 3


def test_success_without_conditions_in_scope_still_gets_ready() -> None:
    obj = fresh(lastAppliedRevision="v1")
    results.settle(obj, KUSTOMIZATION, result=Result(), error=None, now=T0)
    assert ready(obj)[0] == "True" and obj["status"]["observedGeneration"] == 3


def test_error_wins_over_a_stale_failing_condition() -> None:
    obj = fresh()
    conditions.mark_false(obj, meta.HEALTHY, meta.HEALTH_CHECK_FAILED, "old timeout", now=T0)
    error = results.GenericError(meta.BUILD_FAILED, "kustomize build failed")
    results.settle(obj, KUSTOMIZATION, result=Result(), error=error, now=T0)
    assert ready(obj) == ("False", meta.BUILD_FAILED, "kustomize build failed")


def test_a_recorded_failure_lets_the_summary_speak() -> None:
    obj = fresh()
    conditions.mark_false(obj, hc.RELEASED, hc.UPGRADE_FAILED, "upgrade failed", now=T0)
    conditions.mark_true(obj, hc.REMEDIATED, hc.ROLLBACK_SUCCEEDED, "rolled back", now=T0)
    error = results.GenericError(hc.UPGRADE_FAILED, "upgrade failed")
    results.settle(obj, HELM, result=Result(), error=error, now=T0)
    assert ready(obj) == ("False", hc.ROLLBACK_SUCCEEDED, "rolled back")


def test_helm_summary_prefers_test_success_over_released() -> None:
    obj = fresh()
    conditions.mark_true(obj, hc.RELEASED, hc.INSTALL_SUCCEEDED, "installed", now=T0)
    conditions.mark_true(obj, hc.TEST_SUCCESS, hc.TEST_SUCCEEDED, "tested", now=T0)
    results.settle(obj, HELM, result=Result(), error=None, now=T0)
    assert ready(obj) == ("True", hc.TEST_SUCCEEDED, "tested")


def test_source_error_recorded_in_fetch_failed() -> None:
    obj = fresh()
    conditions.mark_true(obj, "ArtifactInStorage", meta.SUCCEEDED, "stored", now=T0)
    conditions.mark_true(obj, "FetchFailed", "GitOperationFailed", "clone failed: 403", now=T0)
    error = results.GenericError("GitOperationFailed", "clone failed: 403")
    results.settle(obj, SOURCE, result=Result(), error=error, now=T0)
    assert ready(obj) == ("False", "GitOperationFailed", "clone failed: 403")


def test_unexpected_error_gets_failed_reason() -> None:
    obj = fresh()
    results.settle(obj, SOURCE, result=Result(), error=RuntimeError("boom"), now=T0)
    assert ready(obj) == ("False", meta.FAILED, "boom")


def test_stalling_error_recorded_by_stalled() -> None:
    obj = fresh()
    conditions.mark_false(obj, hc.RELEASED, hc.RETRIES_EXCEEDED, "too many failures", now=T0)
    error = results.StallingError(hc.RETRIES_EXCEEDED, "release ns/a: too many failures")
    results.settle(obj, HELM, result=Result(), error=error, now=T0)
    assert conditions.is_stalled(obj) and ready(obj)[0] == "False"
    assert obj["status"]["observedGeneration"] == 3
