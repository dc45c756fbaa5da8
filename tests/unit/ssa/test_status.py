"""ssa.status / ssa.kstatus / ssa.cel: every kstatus rule as a table (generic rules, each built-in kind,
Flux's Job rule), malformed input giving Unknown, hypothesis properties (never raises, Ready never Failed,
Deployment counts), and healthCheckExprs: CEL order, generation guard, errors, matching and validation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.api import meta
from gotk.runtime import cel
from gotk.ssa import status

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
Obj = dict[str, Any]


def cond(type_: str, status_: str, reason: str = "", message: str = "") -> Obj:
    return {"type": type_, "status": status_, "reason": reason, "message": message}


def mk(
    api_version: str,
    kind: str,
    *,
    spec: Obj | None = None,
    st_: Obj | None = None,
    conditions: list[Obj] | None = None,
    generation: int | None = None,
    **metadata: Any,
) -> Obj:
    obj: Obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": "ns", **metadata}}
    if generation is not None:
        obj["metadata"]["generation"] = generation
    if spec is not None:
        obj["spec"] = spec
    if st_ is not None or conditions is not None:
        obj["status"] = dict(st_ or {})
        if conditions is not None:
            obj["status"]["conditions"] = conditions
    return obj


def custom(**status_: Any) -> Obj:
    return mk("example.com/v1", "Widget", st_=status_)


def deploy(want: int | None = 2, *, deadline: int | None = 600, **counts: Any) -> Obj:
    spec: Obj = {} if want is None else {"replicas": want}
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    conditions = counts.pop("conditions", None)
    if conditions is None:
        conditions = [cond("Available", "True"), cond("Progressing", "True", "NewReplicaSetAvailable")]
    return mk("apps/v1", "Deployment", spec=spec, st_=counts, conditions=conditions)


FULL = {"replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}


def check(obj: Obj, expected: str, message: str = "") -> None:
    got = status.compute(obj, now=NOW)
    assert got.status == expected, got
    assert message in got.message


GENERIC = [
    ("no status", custom(), "Current", ""),
    ("deleting", mk("v1", "ConfigMap", deletionTimestamp="2026-03-01T11:00:00Z"), "Terminating", "deleted"),
    ("deleting deployment", {**deploy(**FULL), "metadata": {"deletionTimestamp": "t"}}, "Terminating", ""),
    ("generation ahead", mk("x/v1", "W", generation=2, st_={"observedGeneration": 1}), "InProgress", "generation 2"),
    ("generation observed", mk("x/v1", "W", generation=2, st_={"observedGeneration": 2}), "Current", ""),
    ("no observedGeneration", mk("x/v1", "W", generation=3, st_={}), "Current", ""),
    (
        "reconciling",
        mk("x/v1", "W", conditions=[cond("Reconciling", "True", "Progressing", "step 2")]),
        "InProgress",
        "step 2",
    ),
    ("stalled", mk("x/v1", "W", conditions=[cond("Stalled", "True", "Bad", "it broke")]), "Failed", "it broke"),
    ("stalled reason only", mk("x/v1", "W", conditions=[cond("Stalled", "True", "Bad")]), "Failed", "Bad"),
    (
        "stalled false",
        mk("x/v1", "W", conditions=[cond("Stalled", "False"), cond("Reconciling", "False")]),
        "Current",
        "",
    ),
    ("stalled first", mk("x/v1", "W", conditions=[cond("Stalled", "True"), cond("Reconciling", "True")]), "Failed", ""),
    (
        "reconciling first",
        mk("x/v1", "W", conditions=[cond("Reconciling", "True"), cond("Stalled", "True")]),
        "InProgress",
        "",
    ),
    ("ready true", mk("x/v1", "W", conditions=[cond("Ready", "True")]), "Current", "Ready"),
    ("ready false", mk("x/v1", "W", conditions=[cond("Ready", "False", "Nope", "not yet")]), "InProgress", "not yet"),
    ("ready unknown", mk("x/v1", "W", conditions=[cond("Ready", "Unknown", "Wait")]), "InProgress", "Wait"),
    ("ready odd status", mk("x/v1", "W", conditions=[cond("Ready", "Maybe")]), "Current", ""),
    ("stalled beats ready", mk("x/v1", "W", conditions=[cond("Ready", "True"), cond("Stalled", "True")]), "Failed", ""),
    ("stalled on deployment", deploy(conditions=[cond("Stalled", "True", "X", "stuck")], **FULL), "Failed", "stuck"),
    ("kind rule beats Ready", mk("v1", "Service", conditions=[cond("Ready", "False")]), "Current", ""),
    ("no apiVersion group", mk("v1", "Deployment", spec={"replicas": 5}), "Current", ""),
]

MALFORMED = [
    ("status not object", {"apiVersion": "x/v1", "kind": "W", "status": "up"}),
    ("conditions not list", custom(conditions={"type": "Ready"})),
    ("condition not object", custom(conditions=["Ready"])),
    ("condition type not string", custom(conditions=[{"type": 1, "status": "True"}])),
    (
        "generation not int",
        mk("x/v1", "W", generation=None, st_={"observedGeneration": 1}) | {"metadata": {"generation": "1"}},
    ),
    ("observedGeneration not int", mk("x/v1", "W", generation=1, st_={"observedGeneration": "1"})),
    ("deletionTimestamp not string", mk("x/v1", "W", deletionTimestamp=5)),
    ("unknown pod phase", mk("v1", "Pod", st_={"phase": "Exploded"})),
]


@pytest.mark.parametrize(("name", "obj", "expected", "message"), GENERIC, ids=[c[0] for c in GENERIC])
def test_generic_rules(name: str, obj: Obj, expected: str, message: str) -> None:
    check(obj, expected, message)


@pytest.mark.parametrize(("name", "obj"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_is_unknown(name: str, obj: Obj) -> None:
    got = status.compute(obj, now=NOW)
    assert got.status == "Unknown"
    assert got.message.startswith("cannot compute status")


DEPLOYMENTS = [
    ("available", deploy(**FULL), "Current", "Replicas: 2"),
    (
        "deadline exceeded",
        deploy(conditions=[cond("Progressing", "False", "ProgressDeadlineExceeded", "too slow")]),
        "Failed",
        "too slow",
    ),
    ("too few replicas", deploy(3, **FULL), "InProgress", "Replicas: 2/3"),
    ("too few updated", deploy(**(FULL | {"updatedReplicas": 1})), "InProgress", "Updated: 1/2"),
    ("extra pods", deploy(1, **(FULL | {"updatedReplicas": 1})), "InProgress", "Pending termination: 1"),
    ("updated not available", deploy(**(FULL | {"availableReplicas": 1})), "InProgress", "Available: 1/2"),
    ("not ready", deploy(**(FULL | {"readyReplicas": 1})), "InProgress", "Ready: 1/2"),
    (
        "rollout not done",
        deploy(conditions=[cond("Available", "True"), cond("Progressing", "True", "ReplicaSetUpdated")], **FULL),
        "InProgress",
        "ReplicaSet",
    ),
    (
        "not available",
        deploy(conditions=[cond("Available", "False"), cond("Progressing", "True", "NewReplicaSetAvailable")], **FULL),
        "InProgress",
        "Available",
    ),
    (
        "no deadline needs no Progressing",
        deploy(deadline=None, conditions=[cond("Available", "True")], **FULL),
        "Current",
        "",
    ),
    (
        "default one replica",
        deploy(None, replicas=1, updatedReplicas=1, readyReplicas=1, availableReplicas=1),
        "Current",
        "",
    ),
    ("scaled to zero", deploy(0), "Current", ""),
    ("no status", deploy(conditions=[]), "InProgress", "Replicas: 0/2"),
    ("extensions group", {**deploy(3), "apiVersion": "extensions/v1beta1"}, "InProgress", "Replicas"),
]


def sts(want: int = 2, strategy: Obj | None = None, **counts: Any) -> Obj:
    spec: Obj = {"replicas": want} | ({"updateStrategy": strategy} if strategy else {})
    base = {
        "replicas": 2,
        "readyReplicas": 2,
        "currentReplicas": 2,
        "updatedReplicas": 2,
        "currentRevision": "r1",
        "updateRevision": "r1",
    }
    return mk("apps/v1", "StatefulSet", spec=spec, st_=base | counts)


STATEFULSETS = [
    ("ready", sts(), "Current", "Replicas: 2"),
    ("on delete", sts(5, {"type": "OnDelete"}, replicas=0), "Current", "OnDelete"),
    ("too few", sts(3), "InProgress", "Replicas: 2/3"),
    ("not ready", sts(readyReplicas=1), "InProgress", "Ready: 1/2"),
    ("extra", sts(1, readyReplicas=2), "InProgress", "Pending termination: 1"),
    (
        "partition rolling",
        sts(strategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}, updatedReplicas=0),
        "InProgress",
        "0/1",
    ),
    (
        "partition done",
        sts(strategy={"rollingUpdate": {"partition": 1}}, updatedReplicas=1, currentRevision="a"),
        "Current",
        "Partitioned",
    ),
    ("not current", sts(currentReplicas=1), "InProgress", "Current: 1/2"),
    ("revision mismatch", sts(updateRevision="r2"), "InProgress", "revision"),
]


def ds(generation: int | None = 1, **counts: Any) -> Obj:
    base = {
        "observedGeneration": 1,
        "desiredNumberScheduled": 2,
        "currentNumberScheduled": 2,
        "updatedNumberScheduled": 2,
        "numberAvailable": 2,
        "numberReady": 2,
    }
    return mk(
        "apps/v1", "DaemonSet", generation=generation, st_={k: v for k, v in (base | counts).items() if v is not None}
    )


DAEMONSETS = [
    ("ready", ds(), "Current", "Replicas: 2"),
    ("no generation", ds(None), "InProgress", "generation"),
    ("no observedGeneration", ds(observedGeneration=None), "InProgress", "observedGeneration"),
    ("no desired", ds(desiredNumberScheduled=None), "InProgress", "desiredNumberScheduled"),
    ("current", ds(currentNumberScheduled=1), "InProgress", "Current: 1/2"),
    ("updated", ds(updatedNumberScheduled=1), "InProgress", "Updated: 1/2"),
    ("available", ds(numberAvailable=0), "InProgress", "Available: 0/2"),
    ("ready count", ds(numberReady=1), "InProgress", "Ready: 1/2"),
]


def rs(conditions: list[Obj] | None = None, **counts: Any) -> Obj:
    base = {"replicas": 2, "fullyLabeledReplicas": 2, "availableReplicas": 2, "readyReplicas": 2}
    return mk("apps/v1", "ReplicaSet", spec={"replicas": 2}, st_=base | counts, conditions=conditions)


REPLICASETS = [
    ("ready", rs(), "Current", "Replicas: 2"),
    ("replica failure", rs([cond("ReplicaFailure", "True", "FailedCreate", "quota")]), "InProgress", "quota"),
    ("labelled", rs(fullyLabeledReplicas=1), "InProgress", "Labelled: 1/2"),
    ("available", rs(availableReplicas=1), "InProgress", "Available: 1/2"),
    ("ready count", rs(readyReplicas=1), "InProgress", "Ready: 1/2"),
    ("extra", rs(replicas=3), "InProgress", "Pending termination: 1"),
]


def pod(phase: str | None, conditions: list[Obj] | None = None, created: datetime = NOW, **st_: Any) -> Obj:
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return mk(
        "v1", "Pod", st_=({"phase": phase} if phase else {}) | st_, conditions=conditions, creationTimestamp=stamp
    )


CRASH: Obj = {
    "containerStatuses": [
        {"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
        {"name": "ok", "state": {"running": {}}},
    ]
}
UNSCHEDULABLE = [cond("PodScheduled", "False", "Unschedulable")]

OTHERS = [
    ("pvc bound", mk("v1", "PersistentVolumeClaim", st_={"phase": "Bound"}), "Current", "Bound"),
    ("pvc pending", mk("v1", "PersistentVolumeClaim", st_={"phase": "Pending"}), "InProgress", "Pending"),
    ("pvc no status", mk("v1", "PersistentVolumeClaim"), "InProgress", "unknown"),
    ("service", mk("v1", "Service", spec={"clusterIP": "10.0.0.1"}), "Current", ""),
    ("lb no ip", mk("v1", "Service", spec={"type": "LoadBalancer"}), "InProgress", "clusterIP"),
    ("lb with ip", mk("v1", "Service", spec={"type": "LoadBalancer", "clusterIP": "10.0.0.1"}), "Current", ""),
    ("pod succeeded", pod("Succeeded"), "Current", "successfully"),
    ("pod failed", pod("Failed"), "Current", "not successfully"),
    ("pod ready", pod("Running", [cond("Ready", "True")]), "Current", "Ready"),
    ("pod crashloop", pod("Running", [cond("Ready", "False")], **CRASH), "Failed", "app"),
    ("pod running not ready", pod("Running", [cond("Ready", "False")]), "InProgress", "not Ready"),
    ("pod unschedulable old", pod("Pending", UNSCHEDULABLE, NOW - timedelta(seconds=20)), "Failed", "scheduled"),
    ("pod pending", pod("Pending"), "InProgress", "Pending"),
    ("pod no phase", pod(None), "InProgress", "phase"),
    (
        "job complete",
        mk("batch/v1", "Job", spec={"completions": 3}, st_={"succeeded": 3}, conditions=[cond("Complete", "True")]),
        "Current",
        "3/3",
    ),
    (
        "job failed",
        mk("batch/v1", "Job", st_={"failed": 2}, conditions=[cond("Failed", "True")]),
        "Failed",
        "failed: 2/1",
    ),
    ("job suspended", mk("batch/v1", "Job", spec={"suspend": True}), "Current", "suspended"),
    ("job not started", mk("batch/v1", "Job", spec={"parallelism": 2}), "InProgress", "0/2"),
    ("job running", mk("batch/v1", "Job", st_={"startTime": "t", "active": 1}), "InProgress", "active: 1"),
    (
        "job deleting",
        mk("batch/v1", "Job", conditions=[cond("Complete", "True")], deletionTimestamp="t"),
        "Current",
        "",
    ),
    ("cronjob", mk("batch/v1", "CronJob"), "Current", ""),
    ("secret", mk("v1", "Secret"), "Current", ""),
    ("configmap", mk("v1", "ConfigMap"), "Current", ""),
    ("pdb", mk("policy/v1", "PodDisruptionBudget", generation=1, st_={"observedGeneration": 1}), "Current", ""),
    (
        "pdb not observed",
        mk("policy/v1", "PodDisruptionBudget", generation=2, st_={"observedGeneration": 1}),
        "InProgress",
        "",
    ),
]

CRD = "apiextensions.k8s.io/v1"
CRDS = [
    (
        "established",
        mk(CRD, "CustomResourceDefinition", conditions=[cond("NamesAccepted", "True"), cond("Established", "True")]),
        "Current",
        "established",
    ),
    (
        "names rejected",
        mk(CRD, "CustomResourceDefinition", conditions=[cond("NamesAccepted", "False", "Conflict", "taken")]),
        "Failed",
        "taken",
    ),
    (
        "installing",
        mk(CRD, "CustomResourceDefinition", conditions=[cond("Established", "False", "Installing")]),
        "InProgress",
        "",
    ),
    (
        "not established",
        mk(CRD, "CustomResourceDefinition", conditions=[cond("Established", "False", "Broken", "no")]),
        "Failed",
        "no",
    ),
    ("no conditions", mk(CRD, "CustomResourceDefinition"), "InProgress", "installed"),
]

KINDS = DEPLOYMENTS + STATEFULSETS + DAEMONSETS + REPLICASETS + OTHERS + CRDS


@pytest.mark.parametrize(("name", "obj", "expected", "message"), KINDS, ids=[c[0] for c in KINDS])
def test_kind_rules(name: str, obj: Obj, expected: str, message: str) -> None:
    check(obj, expected, message)


def test_unschedulable_pod_gets_a_grace_window_and_a_recheck_time() -> None:
    got = status.compute(pod("Pending", UNSCHEDULABLE, NOW - timedelta(seconds=5)), now=NOW)
    assert got.status == "InProgress"
    assert got.recheck_after == pytest.approx(10.0)
    assert (
        status.compute(
            pod("Pending", UNSCHEDULABLE, NOW - timedelta(seconds=5)), now=NOW + timedelta(seconds=11)
        ).status
        == "Failed"
    )


# -- properties ---------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.text(max_size=4)
    | st.sampled_from(["True", "False", "Ready", "Stalled"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["type", "status", "reason", "phase", "replicas", "conditions", "observedGeneration"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
KIND = st.sampled_from(
    [
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "ReplicaSet"),
        ("v1", "Pod"),
        ("batch/v1", "Job"),
        ("v1", "Service"),
        ("v1", "PersistentVolumeClaim"),
        (CRD, "CustomResourceDefinition"),
        ("x.io/v1", "Thing"),
    ]
)


@given(kind=KIND, spec=JSON, st_=JSON, meta_=JSON)
def test_compute_never_raises(kind: tuple[str, str], spec: Any, st_: Any, meta_: Any) -> None:
    got = status.compute(
        {"apiVersion": kind[0], "kind": kind[1], "metadata": meta_, "spec": spec, "status": st_}, now=NOW
    )
    assert got.status in ("InProgress", "Failed", "Current", "Terminating", "Unknown")


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Ready", "Reconciling", "Healthy", "Other"]), st.sampled_from(["True", "False", "Unknown"])
        ),
        max_size=4,
    )
)
def test_ready_conditions_never_fail_a_generic_object(pairs: list[tuple[str, str]]) -> None:
    got = status.compute(custom(conditions=[cond(t, s) for t, s in pairs]), now=NOW)
    assert got.status in ("Current", "InProgress")


@given(
    want=st.integers(0, 4),
    have=st.integers(0, 4),
    updated=st.integers(0, 4),
    ready=st.integers(0, 4),
    avail=st.integers(0, 4),
)
def test_deployment_current_only_when_counts_line_up(
    want: int, have: int, updated: int, ready: int, avail: int
) -> None:
    obj = deploy(want, replicas=have, updatedReplicas=updated, readyReplicas=ready, availableReplicas=avail)
    got = status.compute(obj, now=NOW).status
    # kstatus never checks updated > spec; a leftover surplus is tolerated once the rest lines up
    assert (got == "Current") == (have == want and updated >= want and avail >= updated and ready >= want)


# -- healthCheckExprs ---------------------------------------------------------------------------------

SYNCED = "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'True')"
NOT_SYNCED = "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'False')"
HC = meta.CustomHealthCheck(api_version="example.com/v1", kind="Widget", current=SYNCED, failed=NOT_SYNCED)


def widget(*conditions: Obj, generation: int = 1, observed: int = 1) -> Obj:
    return mk(
        "example.com/v1",
        "Widget",
        generation=generation,
        st_={"observedGeneration": observed},
        conditions=list(conditions),
    )


@pytest.mark.parametrize(
    ("obj", "hc", "expected"),
    [
        (widget(cond("Synced", "True")), HC, "Current"),
        (widget(cond("Synced", "False")), HC, "Failed"),
        (widget(cond("Synced", "True"), generation=2), HC, "InProgress"),
        (
            widget(cond("Synced", "True")),
            meta.CustomHealthCheck(api_version="example.com/v1", current="true", in_progress="true", failed="true"),
            "InProgress",
        ),
        (widget(), meta.CustomHealthCheck(api_version="example.com/v2", current="false", failed="true"), "Failed"),
        (widget(), meta.CustomHealthCheck(api_version="example.com/v1", current="false"), "InProgress"),
        (
            widget(cond("Synced", "True")),
            meta.CustomHealthCheck(api_version="example.com/v1", current="status.phase == 'x'"),
            "Unknown",
        ),
        (widget(), meta.CustomHealthCheck(api_version="example.com/v1", current="'yes'"), "Unknown"),
        (widget(), meta.CustomHealthCheck(api_version="example.com/v1", current="status.(("), "Failed"),
    ],
)
def test_evaluate_custom(obj: Obj, hc: meta.CustomHealthCheck, expected: str) -> None:
    got = status.evaluate_custom(obj, hc)
    assert got is not None and got.status == expected, got


def test_custom_error_messages_follow_flux() -> None:
    hc = meta.CustomHealthCheck(api_version="example.com/v1", current="status.phase == 'x'")
    got = status.evaluate_custom(widget(), hc)
    assert got is not None and got.message.startswith("failed to evaluate the CEL expression 'status.phase == 'x'': ")
    bad = meta.CustomHealthCheck(api_version="example.com/v1", current="'yes'")
    got = status.evaluate_custom(widget(), bad)
    assert got is not None and got.message == "failed to evaluate CEL expression as boolean: ''yes''"


def test_custom_check_matching() -> None:
    group_wide = meta.CustomHealthCheck(api_version="example.com/v1", current="false")
    assert status.evaluate_custom(mk("other.io/v1", "Widget"), HC) is None
    assert status.evaluate_custom(mk("example.com/v1", "Gadget"), HC) is None
    assert status.match_check("example.com/v9", "Gadget", [HC, group_wide]) is group_wide
    assert status.match_check("example.com/v9", "Widget", [group_wide, HC]) is HC
    assert status.status_of(widget(cond("Synced", "True")), [group_wide, HC]).status == "Current"
    assert status.status_of(mk("example.com/v1", "Gadget"), [HC]).status == "Current"  # kstatus: no conditions


def test_jobs_keep_their_rule_despite_custom_checks() -> None:
    job_check = meta.CustomHealthCheck(api_version="batch/v1", kind="Job", current="true")
    assert status.status_of(mk("batch/v1", "Job"), [job_check]).status == "InProgress"


def test_validate_checks() -> None:
    status.validate_checks([HC, meta.CustomHealthCheck(api_version="example.com/v1", current="true")])
    with pytest.raises(ValueError, match=r"duplicate custom health check for Widget\.example\.com"):
        status.validate_checks([HC, meta.CustomHealthCheck(api_version="example.com/v2", kind="Widget", current="x")])
    with pytest.raises(ValueError, match="Current not specified"):
        status.validate_checks([meta.CustomHealthCheck(api_version="a/v1", current="")])
    with pytest.raises(ValueError, match="failed to parse the CEL expression"):
        status.validate_checks([meta.CustomHealthCheck(api_version="a/v1", current="true", failed="((")])


def test_check_from_spec() -> None:
    spec = {"apiVersion": "example.com/v1", "kind": "Widget", "current": SYNCED, "failed": NOT_SYNCED}
    assert status.check_from_spec(spec) == HC


# -- what cel-python evaluates (with gotk's additions) and what it cannot -----------------------------

CEL_OBJ = widget(cond("Ready", "True", "Succeeded", "all good")) | {"spec": {"replicas": 2}}
CEL_OBJ["status"] |= {"replicas": 2, "ratio": 1.5, "phase": "Running"}


@pytest.mark.parametrize(
    "expr",
    [
        "status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True')",
        "status.conditions.exists(e, e.type == 'Ready' && e.reason.startsWith('Succ'))",
        "has(status.phase) && !has(status.missing)",
        "metadata.generation == status.observedGeneration",
        "status.replicas == 2.0 && status.ratio > 1 && status.replicas < 2.5",
        "status.phase.lowerAscii() == 'running' && status.phase.upperAscii() == 'RUNNING'",
        "status.phase.split('n').size() == 4 && status.phase.indexOf('n') == 2 && status.phase.lastIndexOf('n') == 5",
        "status.phase.substring(1, 3) == 'un' && ' x '.trim() == 'x' && ['a', 'b'].join('-') == 'a-b'",
        "status.phase.replace('n', 'N') == 'RuNNiNg' && status.phase.charAt(0) == 'R'",
        "'a' != 1 && !(status.phase == 1)",
    ],
)
def test_cel_expressions_flux_users_write(expr: str) -> None:
    assert cel.compile_expression(expr).evaluate_bool(CEL_OBJ) is True


@pytest.mark.parametrize(
    ("expr", "error"),
    [
        ("status.?phase.orValue('') == 'Running'", cel.CelError),  # optional types: no parser support
        ("sets.contains([1], [1])", cel.CelEvalError),  # ext.Sets is not there
        ("base64.encode(b'a') == 'YQ=='", cel.CelEvalError),  # ext.Encoders is not there
    ],
)
def test_cel_features_cel_python_lacks(expr: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        cel.compile_expression(expr).evaluate_bool(CEL_OBJ)
