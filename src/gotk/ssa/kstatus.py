"""kstatus rules: `compute(obj)` says whether a plain object is Current, InProgress, Failed or Terminating.

The generic rules (deletion, observedGeneration, Reconciling/Stalled, Ready) and the per-kind rules of
cli-utils pkg/kstatus/status, with Flux's Job rule (InProgress until Complete). Pure; reached through
`gotk.ssa.status`, which adds the CEL `healthCheckExprs`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, NamedTuple

from gotk.api import meta
from gotk.kube.resources import split_api_version

__all__ = [
    "CURRENT",
    "FAILED",
    "IN_PROGRESS",
    "NOT_FOUND",
    "TERMINATING",
    "UNKNOWN",
    "ObjStatus",
    "Status",
    "compute",
    "field",
    "rule_key",
]

Status = Literal["InProgress", "Failed", "Current", "Terminating", "NotFound", "Unknown"]
IN_PROGRESS: Final = "InProgress"
FAILED: Final = "Failed"
CURRENT: Final = "Current"
TERMINATING: Final = "Terminating"
NOT_FOUND: Final = "NotFound"
UNKNOWN: Final = "Unknown"

View = Mapping[str, Any]

_MAX_INT32: Final = 2**31 - 1
_SCHEDULE_WINDOW: Final = 15.0  # seconds a Pod may stay unschedulable before it counts as Failed


@dataclass(frozen=True)
class ObjStatus:
    """The verdict on one object. `recheck_after` (seconds) is set when time alone can change it."""

    status: Status
    message: str
    recheck_after: float | None = None


class _Malformed(ValueError):
    """A field kstatus reads has the wrong shape; the object's status is Unknown."""


class _Cond(NamedTuple):
    type: str
    status: str
    reason: str
    message: str


def compute(obj: View, *, now: datetime | None = None) -> ObjStatus:
    """kstatus `Compute` for one object (Flux flavour: Jobs are InProgress until Complete)."""
    moment = now or datetime.now(UTC)
    try:
        key = rule_key(obj)
        if key == "batch/Job":
            return _job(obj, moment)  # Flux's Job reader replaces the generic checks too
        decided = _generic(obj)
        if decided is not None:
            return decided
        rule = _RULES.get(key)
        if rule is not None:
            return rule(obj, moment)
        return _ready_condition(obj) or ObjStatus(CURRENT, "Resource is current")
    except _Malformed as exc:
        return ObjStatus(UNKNOWN, f"cannot compute status: {exc}")


# -- field access with kstatus's tolerance --------------------------------------------------------


def field(obj: View, path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _int(obj: View, path: str, default: int) -> int:
    value = field(obj, path)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _str(obj: View, path: str, default: str) -> str:
    value = field(obj, path)
    return value if isinstance(value, str) else default


def _strict_int(obj: View, path: str) -> int | None:
    """An integer field that must be an integer when present (metadata.generation, status.observedGeneration)."""
    head, _, _ = path.rpartition(".")
    parent = field(obj, head)
    if parent is not None and not isinstance(parent, Mapping):
        raise _Malformed(f".{head} is not an object")
    value = field(obj, path)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Malformed(f".{path} is not an integer")
    return value


def _conditions(obj: View) -> list[_Cond]:
    status = obj.get("status")
    if status is None:
        return []
    if not isinstance(status, Mapping):
        raise _Malformed(".status is not an object")
    raw = status.get("conditions")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _Malformed(".status.conditions is not a list")
    out: list[_Cond] = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise _Malformed(".status.conditions holds a non-object")
        fields = [item.get(k) for k in ("type", "status", "reason", "message")]
        if any(f is not None and not isinstance(f, str) for f in fields):
            raise _Malformed(".status.conditions holds a non-string field")
        out.append(_Cond(*(f or "" for f in fields)))
    return out


def rule_key(obj: View) -> str:
    group, _ = split_api_version(str(obj.get("apiVersion") or ""))
    kind = str(obj.get("kind") or "")
    return f"{group}/{kind}" if group else kind


def _in_progress(message: str) -> ObjStatus:
    return ObjStatus(IN_PROGRESS, message)


def _failed(message: str) -> ObjStatus:
    return ObjStatus(FAILED, message)


# -- generic rules -----------------------------------------------------------------------------------


def _generic(obj: View) -> ObjStatus | None:
    deletion = field(obj, "metadata.deletionTimestamp")
    if deletion is not None and not isinstance(deletion, str):
        raise _Malformed(".metadata.deletionTimestamp is not a string")
    if deletion:
        return ObjStatus(TERMINATING, "Resource is being deleted")
    stale = _generation_not_observed(obj)
    if stale is not None:
        return stale
    for cond in _conditions(obj):
        if cond.type == meta.RECONCILING and cond.status == "True":
            return _in_progress(cond.message or cond.reason)
        if cond.type == meta.STALLED and cond.status == "True":
            return _failed(cond.message or cond.reason)
    return None


def _generation_not_observed(obj: View) -> ObjStatus | None:
    generation = _strict_int(obj, "metadata.generation")
    if generation is None:
        return None
    observed = _strict_int(obj, "status.observedGeneration")
    if observed is None or observed == generation:
        return None
    return _in_progress(f"{obj.get('kind')} generation {generation} not yet observed (observed {observed})")


def _ready_condition(obj: View) -> ObjStatus | None:
    for cond in _conditions(obj):
        if cond.type != meta.READY:
            continue
        if cond.status == "True":
            return ObjStatus(CURRENT, "Resource is Ready")
        if cond.status in ("False", "Unknown"):
            return _in_progress(cond.message or cond.reason or f"Ready is {cond.status}")
    return None


# -- built-in kinds ----------------------------------------------------------------------------------


def _always_current(obj: View, now: datetime) -> ObjStatus:
    return ObjStatus(CURRENT, f"{obj.get('kind')} is always ready")


def _deployment(obj: View, now: datetime) -> ObjStatus:
    progressing = _int(obj, "spec.progressDeadlineSeconds", _MAX_INT32) == _MAX_INT32
    available = False
    for cond in _conditions(obj):
        if cond.type == "Progressing":
            if cond.reason == "ProgressDeadlineExceeded":
                return _failed(
                    f"Progress deadline exceeded: {cond.message}" if cond.message else "Progress deadline exceeded"
                )
            if cond.status == "True" and cond.reason == "NewReplicaSetAvailable":
                progressing = True
        elif cond.type == "Available" and cond.status == "True":
            available = True
    want = _int(obj, "spec.replicas", 1)
    have = _int(obj, "status.replicas", 0)
    updated = _int(obj, "status.updatedReplicas", 0)
    ready = _int(obj, "status.readyReplicas", 0)
    avail = _int(obj, "status.availableReplicas", 0)
    if want > have:
        return _in_progress(f"Replicas: {have}/{want}")
    if want > updated:
        return _in_progress(f"Updated: {updated}/{want}")
    if have > want:
        return _in_progress(f"Pending termination: {have - want}")
    if updated > avail:
        return _in_progress(f"Available: {avail}/{updated}")
    if want > ready:
        return _in_progress(f"Ready: {ready}/{want}")
    if not progressing:
        return _in_progress("New ReplicaSet not yet available")
    if not available:
        return _in_progress("Deployment not yet Available")
    return ObjStatus(CURRENT, f"Deployment is available. Replicas: {have}")


def _replicaset(obj: View, now: datetime) -> ObjStatus:
    for cond in _conditions(obj):
        if cond.type == "ReplicaFailure" and cond.status == "True":
            return _in_progress(f"ReplicaFailure: {cond.message}" if cond.message else "ReplicaFailure")
    want = _int(obj, "spec.replicas", 1)
    have = _int(obj, "status.replicas", 0)
    labelled = _int(obj, "status.fullyLabeledReplicas", 0)
    avail = _int(obj, "status.availableReplicas", 0)
    ready = _int(obj, "status.readyReplicas", 0)
    if want > labelled:
        return _in_progress(f"Labelled: {labelled}/{want}")
    if want > avail:
        return _in_progress(f"Available: {avail}/{want}")
    if want > ready:
        return _in_progress(f"Ready: {ready}/{want}")
    if have > want:
        return _in_progress(f"Pending termination: {have - want}")
    return ObjStatus(CURRENT, f"ReplicaSet is available. Replicas: {have}")


def _statefulset(obj: View, now: datetime) -> ObjStatus:
    if _str(obj, "spec.updateStrategy.type", "") == "OnDelete":
        return ObjStatus(CURRENT, "StatefulSet uses the OnDelete update strategy")
    want = _int(obj, "spec.replicas", 1)
    have = _int(obj, "status.replicas", 0)
    ready = _int(obj, "status.readyReplicas", 0)
    current = _int(obj, "status.currentReplicas", 0)
    updated = _int(obj, "status.updatedReplicas", 0)
    partition = _int(obj, "spec.updateStrategy.rollingUpdate.partition", -1)
    if want > have:
        return _in_progress(f"Replicas: {have}/{want}")
    if want > ready:
        return _in_progress(f"Ready: {ready}/{want}")
    if have > want:
        return _in_progress(f"Pending termination: {have - want}")
    if partition != -1:
        if updated < want - partition:
            return _in_progress(f"Partitioned rollout: updated {updated}/{want - partition}")
        return ObjStatus(CURRENT, f"Partitioned rollout complete. Updated: {updated}")
    if want > current:
        return _in_progress(f"Current: {current}/{want}")
    if _str(obj, "status.currentRevision", "") != _str(obj, "status.updateRevision", ""):
        return _in_progress("Waiting for the update revision to become current")
    return ObjStatus(CURRENT, f"All replicas scheduled as expected. Replicas: {have}")


def _daemonset(obj: View, now: datetime) -> ObjStatus:
    if _strict_int(obj, "metadata.generation") is None:
        return _in_progress("DaemonSet has no metadata.generation")
    if _strict_int(obj, "status.observedGeneration") is None:
        return _in_progress("DaemonSet has no status.observedGeneration")
    desired = _int(obj, "status.desiredNumberScheduled", -1)
    if desired == -1:
        return _in_progress("DaemonSet has no status.desiredNumberScheduled")
    for path, label in (
        ("status.currentNumberScheduled", "Current"),
        ("status.updatedNumberScheduled", "Updated"),
        ("status.numberAvailable", "Available"),
        ("status.numberReady", "Ready"),
    ):
        count = _int(obj, path, 0)
        if desired > count:
            return _in_progress(f"{label}: {count}/{desired}")
    return ObjStatus(CURRENT, f"All replicas scheduled as expected. Replicas: {desired}")


def _pvc(obj: View, now: datetime) -> ObjStatus:
    phase = _str(obj, "status.phase", "unknown")
    if phase != "Bound":
        return _in_progress(f"PVC is not Bound (phase {phase})")
    return ObjStatus(CURRENT, "PVC is Bound")


def _service(obj: View, now: datetime) -> ObjStatus:
    if _str(obj, "spec.type", "ClusterIP") == "LoadBalancer" and not _str(obj, "spec.clusterIP", ""):
        return _in_progress("LoadBalancer Service has no clusterIP yet")
    return ObjStatus(CURRENT, "Service is ready")


def _pod(obj: View, now: datetime) -> ObjStatus:
    conds = _conditions(obj)
    phase = _str(obj, "status.phase", "")
    if phase == "Succeeded":
        return ObjStatus(CURRENT, "Pod completed successfully")
    if phase == "Failed":
        return ObjStatus(CURRENT, "Pod completed, but not successfully")
    if phase == "Running":
        if any(c.type == "Ready" and c.status == "True" for c in conds):
            return ObjStatus(CURRENT, "Pod is Ready")
        looping = _crash_looping(obj)
        if looping:
            return _failed(f"Containers in CrashLoopBackOff: {','.join(looping)}")
        return _in_progress("Pod is running but not Ready")
    if phase == "Pending":
        unschedulable = any(
            c.type == "PodScheduled" and c.status == "False" and c.reason == "Unschedulable" for c in conds
        )
        if unschedulable:
            age = (now - _created(obj)).total_seconds()
            if age < _SCHEDULE_WINDOW:
                return ObjStatus(IN_PROGRESS, "Pod is not scheduled yet", recheck_after=_SCHEDULE_WINDOW - age)
            return _failed("Pod could not be scheduled")
        return _in_progress("Pod is Pending")
    if phase == "":
        return _in_progress("Pod has no phase yet")
    raise _Malformed(f"unknown Pod phase {phase!r}")


def _crash_looping(obj: View) -> list[str]:
    statuses = field(obj, "status.containerStatuses")
    names: list[str] = []
    for item in statuses if isinstance(statuses, list) else []:
        name = item.get("name") if isinstance(item, Mapping) else None
        if isinstance(name, str) and _str(item, "state.waiting.reason", "") == "CrashLoopBackOff":
            names.append(name)
    return names


def _created(obj: View) -> datetime:
    text = _str(obj, "metadata.creationTimestamp", "")
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)  # like Go's zero time: long ago
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _job(obj: View, now: datetime) -> ObjStatus:
    if field(obj, "spec.suspend") is True:
        return ObjStatus(CURRENT, "Job is suspended")
    parallelism = _int(obj, "spec.parallelism", 1)
    completions = _int(obj, "spec.completions", parallelism)
    succeeded = _int(obj, "status.succeeded", 0)
    active = _int(obj, "status.active", 0)
    failed = _int(obj, "status.failed", 0)
    for cond in _conditions(obj):
        if cond.type == "Complete" and cond.status == "True":
            return ObjStatus(CURRENT, f"Job completed. succeeded: {succeeded}/{completions}")
        if cond.type == "Failed" and cond.status == "True":
            return _failed(f"Job failed. failed: {failed}/{completions}")
    if not _str(obj, "status.startTime", ""):
        return _in_progress(f"Job not started. active: 0/{parallelism}")
    return _in_progress(f"Job in progress. succeeded: {succeeded}, active: {active}, failed: {failed}")


def _crd(obj: View, now: datetime) -> ObjStatus:
    for cond in _conditions(obj):
        if cond.type == "NamesAccepted" and cond.status == "False":
            return _failed(cond.message or cond.reason)
        if cond.type == "Established":
            if cond.status == "False" and cond.reason != "Installing":
                return _failed(cond.message or cond.reason)
            if cond.status == "True":
                return ObjStatus(CURRENT, "CRD is established")
    return _in_progress("CRD is being installed")


_RULES: Final[dict[str, Callable[[View, datetime], ObjStatus]]] = {
    "Service": _service,
    "Pod": _pod,
    "Secret": _always_current,
    "ConfigMap": _always_current,
    "PersistentVolumeClaim": _pvc,
    "apps/StatefulSet": _statefulset,
    "apps/DaemonSet": _daemonset,
    "extensions/DaemonSet": _daemonset,
    "apps/Deployment": _deployment,
    "extensions/Deployment": _deployment,
    "apps/ReplicaSet": _replicaset,
    "extensions/ReplicaSet": _replicaset,
    "policy/PodDisruptionBudget": _always_current,
    "batch/CronJob": _always_current,
    "apiextensions.k8s.io/CustomResourceDefinition": _crd,
}
