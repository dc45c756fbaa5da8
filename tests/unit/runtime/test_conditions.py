"""conditions: exact condition dicts, lastTransitionTime only on status change, observedGeneration,
stable order, negative polarity (Reconciling/Stalled only while True), summarize() per Flux merge
priority, the kstatus rules checked against a small kstatus Compute, and the status bookkeeping helpers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.api import meta
from gotk.runtime import conditions

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
T0_S = "2026-03-01T12:00:00Z"
T1_S = "2026-03-01T12:05:00Z"

# A GitRepository-like table (source-controller's gitRepositoryReadyCondition, trimmed).
FETCH_FAILED = "FetchFailed"
STORAGE_FAILED = "StorageOperationFailed"
ARTIFACT_IN_STORAGE = "ArtifactInStorage"
SOURCE_VERIFIED = "SourceVerified"
TABLE = conditions.ConditionTable(
    target=meta.READY,
    owned=(
        STORAGE_FAILED,
        FETCH_FAILED,
        ARTIFACT_IN_STORAGE,
        SOURCE_VERIFIED,
        meta.READY,
        meta.RECONCILING,
        meta.STALLED,
    ),
    summarize=(STORAGE_FAILED, FETCH_FAILED, ARTIFACT_IN_STORAGE, SOURCE_VERIFIED, meta.STALLED, meta.RECONCILING),
    negative_polarity=(STORAGE_FAILED, FETCH_FAILED, meta.STALLED, meta.RECONCILING),
)


def make(generation: int = 3, **status: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "podinfo", "namespace": "flux-system", "generation": generation},
        "spec": {"interval": "1m"},
    }
    if status:
        obj["status"] = status
    return obj


def types(obj: dict[str, Any]) -> list[str]:
    return [c["type"] for c in obj["status"]["conditions"]]


def kstatus(obj: dict[str, Any]) -> str:
    """kstatus Compute, generic rules only (reliability.md §5)."""
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    observed = (obj.get("status") or {}).get("observedGeneration")
    if observed is not None and observed != obj["metadata"].get("generation"):
        return "InProgress"
    if conditions.is_true(obj, meta.RECONCILING):
        return "InProgress"
    if conditions.is_true(obj, meta.STALLED):
        return "Failed"
    ready = conditions.get(obj, meta.READY)
    if ready is not None:
        return "Current" if ready["status"] == "True" else "InProgress"
    return "Current"


# -- marking ----------------------------------------------------------------------------------------


def test_mark_true_writes_a_complete_condition() -> None:
    obj = make()
    conditions.mark_true(obj, meta.READY, meta.SUCCEEDED, "stored artifact", now=T0)
    assert obj["status"]["conditions"] == [
        {
            "type": "Ready",
            "status": "True",
            "observedGeneration": 3,
            "lastTransitionTime": T0_S,
            "reason": "Succeeded",
            "message": "stored artifact",
        }
    ]


def test_same_status_keeps_last_transition_time_but_updates_the_rest() -> None:
    obj = make()
    conditions.mark_false(obj, meta.READY, meta.FAILED, "first", now=T0)
    obj["metadata"]["generation"] = 4
    conditions.mark_false(obj, meta.READY, meta.BUILD_FAILED, "second", now=T1)
    assert conditions.get(obj, meta.READY) == {
        "type": "Ready",
        "status": "False",
        "observedGeneration": 4,
        "lastTransitionTime": T0_S,
        "reason": "BuildFailed",
        "message": "second",
    }


def test_status_change_moves_last_transition_time() -> None:
    obj = make()
    conditions.mark_unknown(obj, meta.READY, meta.PROGRESSING, "working", now=T0)
    conditions.mark_true(obj, meta.READY, meta.SUCCEEDED, "done", now=T1)
    ready = conditions.get(obj, meta.READY)
    assert ready is not None and ready["lastTransitionTime"] == T1_S


def test_timestamps_are_utc_and_truncated_to_seconds() -> None:
    obj = make()
    plus_two = timezone(timedelta(hours=2))
    conditions.mark_true(obj, "A", "R", "", now=datetime(2026, 3, 1, 14, 0, 0, 987654, tzinfo=plus_two))
    assert obj["status"]["conditions"][0]["lastTransitionTime"] == T0_S


def test_default_now_is_the_current_time() -> None:
    obj = make()
    before = datetime.now(UTC).replace(microsecond=0)
    conditions.mark_true(obj, "A", "R", "")
    stamped = datetime.strptime(obj["status"]["conditions"][0]["lastTransitionTime"], "%Y-%m-%dT%H:%M:%SZ")
    assert stamped.replace(tzinfo=UTC) >= before


def test_object_without_generation_gets_no_observed_generation() -> None:
    obj: dict[str, Any] = {"metadata": {"name": "x"}}
    conditions.mark_true(obj, meta.READY, meta.SUCCEEDED, "", now=T0)
    assert "observedGeneration" not in obj["status"]["conditions"][0]


def test_conditions_keep_a_stable_order() -> None:
    obj = make()
    for type_ in ("Zeta", meta.READY, "Alpha", meta.RECONCILING):
        conditions.mark_true(obj, type_, "R", "", now=T0)
    conditions.set_condition(obj, type_=meta.STALLED, status="True", reason="R", message="", now=T0)
    assert types(obj) == ["Stalled", "Reconciling", "Ready", "Alpha", "Zeta"]
    conditions.mark_false(obj, "Alpha", "R", "", now=T1)
    assert types(obj) == ["Stalled", "Reconciling", "Ready", "Alpha", "Zeta"]


def test_invalid_status_is_rejected() -> None:
    with pytest.raises(ValueError):
        conditions.set_condition(make(), type_=meta.READY, status="Yes", reason="R", message="")


# -- reading ----------------------------------------------------------------------------------------


def test_readers_on_an_object_without_status() -> None:
    obj = make()
    assert conditions.get(obj, meta.READY) is None
    assert not conditions.is_true(obj, meta.READY)
    assert not conditions.is_false(obj, meta.READY)
    assert conditions.is_unknown(obj, meta.READY), "absent counts as Unknown"
    assert not conditions.is_ready(obj) and not conditions.is_stalled(obj) and not conditions.is_reconciling(obj)
    assert conditions.get_reason(obj, meta.READY) == "" and conditions.get_message(obj, meta.READY) == ""


def test_readers_see_each_status() -> None:
    obj = make()
    conditions.mark_true(obj, "A", "RA", "ma", now=T0)
    conditions.mark_false(obj, "B", "RB", "mb", now=T0)
    conditions.mark_unknown(obj, "C", "RC", "mc", now=T0)
    assert conditions.is_true(obj, "A") and not conditions.is_false(obj, "A") and not conditions.is_unknown(obj, "A")
    assert conditions.is_false(obj, "B") and not conditions.is_true(obj, "B")
    assert conditions.is_unknown(obj, "C")
    assert (conditions.get_reason(obj, "B"), conditions.get_message(obj, "B")) == ("RB", "mb")


def test_delete_removes_only_that_type_and_never_creates_status() -> None:
    obj = make()
    conditions.delete(obj, meta.READY)
    assert "status" not in obj
    conditions.mark_true(obj, "A", "R", "", now=T0)
    conditions.mark_true(obj, "B", "R", "", now=T0)
    conditions.delete(obj, "A")
    assert types(obj) == ["B"]


# -- negative polarity ------------------------------------------------------------------------------


def test_reconciling_and_stalled_exclude_each_other() -> None:
    obj = make()
    conditions.mark_reconciling(obj, meta.PROGRESSING, "reconciliation in progress", now=T0)
    assert conditions.is_reconciling(obj)
    conditions.mark_stalled(obj, meta.INVALID_URL, "bad url", now=T0)
    assert conditions.is_stalled(obj) and conditions.get(obj, meta.RECONCILING) is None
    conditions.mark_reconciling(obj, meta.PROGRESSING, "again", now=T0)
    assert conditions.is_reconciling(obj) and conditions.get(obj, meta.STALLED) is None


@pytest.mark.parametrize("type_", [meta.RECONCILING, meta.STALLED])
@pytest.mark.parametrize("status", ["False", "Unknown"])
def test_negative_polarity_conditions_exist_only_while_true(type_: str, status: str) -> None:
    obj = make()
    conditions.mark_true(obj, type_, "R", "", now=T0)
    conditions.set_condition(obj, type_=type_, status=status, reason="R", message="", now=T1)
    assert conditions.get(obj, type_) is None


# -- summarize --------------------------------------------------------------------------------------

Cond = tuple[str, str, str, str]  # type, status, reason, message


def with_conditions(*conds: Cond) -> dict[str, Any]:
    obj = make()
    for type_, status, reason, message in conds:
        conditions.set_condition(obj, type_=type_, status=status, reason=reason, message=message, now=T0)
    return obj


STORED = (ARTIFACT_IN_STORAGE, "True", meta.SUCCEEDED, "stored artifact for revision main@sha1:abc")


@pytest.mark.parametrize(
    ("given_", "want"),
    [
        pytest.param([STORED], ("True", meta.SUCCEEDED, STORED[3]), id="positive-true"),
        pytest.param(
            [STORED, (FETCH_FAILED, "True", "GitOperationFailed", "clone failed")],
            ("False", "GitOperationFailed", "clone failed"),
            id="negative-true-beats-positive-true",
        ),
        pytest.param(
            [(FETCH_FAILED, "True", "GitOperationFailed", "x"), (STORAGE_FAILED, "True", "StatFailed", "y")],
            ("False", "StatFailed", "y"),
            id="summarize-order-picks-reason",
        ),
        pytest.param(
            [STORED, (SOURCE_VERIFIED, "False", "VerificationError", "bad signature")],
            ("False", "VerificationError", "bad signature"),
            id="positive-false-beats-positive-true",
        ),
        pytest.param(
            [(ARTIFACT_IN_STORAGE, "Unknown", "Pending", "waiting")],
            ("Unknown", "Pending", "waiting"),
            id="unknown",
        ),
        pytest.param(
            [STORED, (FETCH_FAILED, "False", "Fine", "")],
            ("True", meta.SUCCEEDED, STORED[3]),
            id="negative-false-is-fine",
        ),
        pytest.param(
            [STORED, (meta.RECONCILING, "True", meta.PROGRESSING, "reconciliation in progress")],
            ("Unknown", meta.PROGRESSING, "reconciliation in progress"),
            id="reconciling-makes-ready-unknown",
        ),
        pytest.param(
            [
                (meta.RECONCILING, "True", meta.PROGRESSING_WITH_RETRY, "retrying"),
                (FETCH_FAILED, "True", "Auth", "401"),
            ],
            ("False", "Auth", "401"),
            id="reconciling-with-failure-is-false",
        ),
        pytest.param(
            [STORED, (meta.STALLED, "True", meta.INVALID_URL, "bad url")],
            ("False", meta.INVALID_URL, "bad url"),
            id="stalled-is-false",
        ),
        pytest.param(
            [(meta.STALLED, "True", meta.INVALID_URL, "bad url"), (FETCH_FAILED, "True", "URLInvalid", "parse")],
            ("False", "URLInvalid", "parse"),
            id="stalled-takes-first-negative-in-summarize-order",
        ),
    ],
)
def test_summarize(given_: list[Cond], want: tuple[str, str, str]) -> None:
    obj = with_conditions(*given_)
    conditions.summarize(obj, TABLE, now=T1)
    ready = conditions.get(obj, meta.READY)
    assert ready is not None
    assert (ready["status"], ready["reason"], ready["message"]) == want
    assert ready["observedGeneration"] == 3


def test_summarize_without_conditions_in_scope_leaves_ready_alone() -> None:
    obj = with_conditions(("Unrelated", "False", "R", ""))
    conditions.summarize(obj, TABLE, now=T0)
    assert conditions.get(obj, meta.READY) is None
    conditions.mark_true(obj, meta.READY, meta.SUCCEEDED, "kept", now=T0)
    conditions.summarize(obj, TABLE, now=T1)
    assert conditions.get_message(obj, meta.READY) == "kept"


def test_summarize_ignores_the_previous_ready() -> None:
    obj = with_conditions((meta.READY, "False", meta.FAILED, "old"), STORED)
    conditions.summarize(obj, TABLE, now=T1)
    ready = conditions.get(obj, meta.READY)
    assert ready is not None and (ready["status"], ready["lastTransitionTime"]) == ("True", T1_S)


def test_summarize_keeps_transition_time_when_ready_status_holds() -> None:
    obj = with_conditions(STORED)
    conditions.summarize(obj, TABLE, now=T0)
    conditions.mark_true(obj, ARTIFACT_IN_STORAGE, meta.SUCCEEDED, "new revision", now=T1)
    conditions.summarize(obj, TABLE, now=T1)
    ready = conditions.get(obj, meta.READY)
    assert ready is not None and (ready["message"], ready["lastTransitionTime"]) == ("new revision", T0_S)


def test_summarize_inverts_for_a_negative_polarity_target() -> None:
    table = conditions.ConditionTable(
        target="Degraded", summarize=(ARTIFACT_IN_STORAGE,), negative_polarity=("Degraded",)
    )
    obj = with_conditions(STORED)
    conditions.summarize(obj, table, now=T0)
    assert conditions.is_false(obj, "Degraded")


# -- kstatus ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "want"),
    [
        ([STORED], "Current"),
        ([STORED, (meta.RECONCILING, "True", meta.PROGRESSING, "")], "InProgress"),
        ([(meta.STALLED, "True", meta.INVALID_URL, "")], "Failed"),
        ([(FETCH_FAILED, "True", "Auth", "401")], "InProgress"),
    ],
)
def test_kstatus_of_summarized_objects(given_: list[Cond], want: str) -> None:
    obj = with_conditions(*given_)
    conditions.summarize(obj, TABLE, now=T0)
    assert kstatus(obj) == want


def test_kstatus_sees_a_stale_observed_generation() -> None:
    obj = with_conditions(STORED)
    conditions.summarize(obj, TABLE, now=T0)
    conditions.set_observed_generation(obj)
    assert kstatus(obj) == "Current"
    obj["metadata"]["generation"] = 4
    assert kstatus(obj) == "InProgress"


OPTIONAL_STATUS = st.sampled_from([None, "True", "False", "Unknown"])


@given(
    reconciling=st.booleans(),
    stalled=st.booleans(),
    fetch=OPTIONAL_STATUS,
    storage=OPTIONAL_STATUS,
    stored=OPTIONAL_STATUS,
    verified=OPTIONAL_STATUS,
)
def test_summarize_obeys_kstatus_rules(
    reconciling: bool,
    stalled: bool,
    fetch: str | None,
    storage: str | None,
    stored: str | None,
    verified: str | None,
) -> None:
    conds: list[Cond] = []
    if reconciling:
        conds.append((meta.RECONCILING, "True", meta.PROGRESSING, "r"))
    if stalled:
        conds.append((meta.STALLED, "True", meta.FAILED, "s"))
    for type_, status in ((FETCH_FAILED, fetch), (STORAGE_FAILED, storage)):
        if status is not None:
            conds.append((type_, status, "Neg", type_))
    for type_, status in ((ARTIFACT_IN_STORAGE, stored), (SOURCE_VERIFIED, verified)):
        if status is not None:
            conds.append((type_, status, "Pos", type_))
    obj = with_conditions(*conds)
    conditions.summarize(obj, TABLE, now=T1)
    ready = conditions.get(obj, meta.READY)
    negative_true = any(conditions.is_true(obj, t) for t in (FETCH_FAILED, STORAGE_FAILED))
    if stalled:
        assert ready is not None and ready["status"] == "False"
    elif reconciling:
        assert ready is not None
        assert ready["status"] == ("False" if negative_true else "Unknown")
    if ready is not None and ready["status"] == "True":
        assert not negative_true and not stalled and not reconciling
        assert kstatus(obj) == "Current"
    if negative_true:
        assert ready is not None and ready["status"] == "False"


# -- status bookkeeping -----------------------------------------------------------------------------


def test_set_observed_generation() -> None:
    obj = make(generation=7)
    conditions.set_observed_generation(obj)
    assert obj["status"]["observedGeneration"] == 7


def test_last_handled_reconcile_at_follows_the_annotation() -> None:
    obj = make()
    assert not conditions.reconcile_requested(obj)
    assert conditions.set_last_handled_reconcile_at(obj) is False
    assert "status" not in obj
    obj["metadata"]["annotations"] = {meta.RECONCILE_REQUEST_ANNOTATION: "2026-03-01T12:00:00.1Z"}
    assert conditions.reconcile_requested(obj)
    assert conditions.set_last_handled_reconcile_at(obj) is True
    assert obj["status"]["lastHandledReconcileAt"] == "2026-03-01T12:00:00.1Z"
    assert not conditions.reconcile_requested(obj)
    assert conditions.set_last_handled_reconcile_at(obj) is False


def _requested(force: str | None, requested: str | None, **status: Any) -> dict[str, Any]:
    annotations = {
        k: v for k, v in ((meta.FORCE_REQUEST_ANNOTATION, force), (meta.RECONCILE_REQUEST_ANNOTATION, requested)) if v
    }
    return {"metadata": {"annotations": annotations}, "status": dict(status)}


def test_an_annotation_request_is_handled_once_and_only_with_its_reconcile_request() -> None:
    obj = _requested("t1", "t1")
    assert conditions.handle_annotation_request(obj, meta.FORCE_REQUEST_ANNOTATION, "lastHandledForceAt")
    assert obj["status"]["lastHandledForceAt"] == "t1"
    assert not conditions.handle_annotation_request(obj, meta.FORCE_REQUEST_ANNOTATION, "lastHandledForceAt")
    # a value that does not match requestedAt is recorded, never acted on
    other = _requested("t2", "t1")
    assert not conditions.handle_annotation_request(other, meta.FORCE_REQUEST_ANNOTATION, "lastHandledForceAt")
    assert other["status"]["lastHandledForceAt"] == "t2"
    # a reconcile request already handled does not carry the force request again
    handled = _requested("t3", "t3", lastHandledReconcileAt="t3")
    assert not conditions.handle_annotation_request(handled, meta.FORCE_REQUEST_ANNOTATION, "lastHandledForceAt")
    absent = _requested(None, "t1")
    assert not conditions.handle_annotation_request(absent, meta.FORCE_REQUEST_ANNOTATION, "lastHandledForceAt")
    assert "lastHandledForceAt" not in absent["status"]
