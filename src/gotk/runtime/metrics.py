"""The gotk_* Prometheus metrics every controller exports, on a registry the controller owns.

Reconcile loops call `record_duration`, `record_conditions` and `record_suspend` after each run and
`forget` when an object is gone; the metrics HTTP endpoint serves `render()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import prometheus_client
from prometheus_client import CollectorRegistry, Gauge, Histogram

from gotk.api import meta
from gotk.runtime import conditions

__all__ = ["CONTENT_TYPE", "DURATION_BUCKETS", "Metrics"]

CONTENT_TYPE: Final[str] = prometheus_client.CONTENT_TYPE_LATEST


def _exponential_range(low: float, high: float, count: int) -> tuple[float, ...]:
    """`count` buckets from `low` to `high`, each a constant factor apart (Go ExponentialBucketsRange)."""
    factor = (high / low) ** (1.0 / (count - 1))
    return tuple(low * factor**i for i in range(count))


DURATION_BUCKETS: Final = _exponential_range(0.01, 1800.0, 10)

_STATUSES: Final = (conditions.TRUE, conditions.FALSE, conditions.UNKNOWN)
_DEFAULT_TYPES: Final = (meta.READY, meta.RECONCILING, meta.STALLED)
_NEGATIVE_POLARITY: Final = frozenset({meta.RECONCILING, meta.STALLED})

ObjKey = tuple[str, str, str]  # kind, namespace, name


def _ref(obj: Mapping[str, Any]) -> ObjKey:
    metadata = obj.get("metadata") or {}
    return str(obj.get("kind", "")), str(metadata.get("namespace", "")), str(metadata.get("name", ""))


class Metrics:
    """gotk_reconcile_duration_seconds, gotk_reconcile_condition and gotk_suspend_status."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """`registry` None creates a fresh one, so several controllers in a process never clash."""
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        labels = ("kind", "name", "namespace")
        self._duration = Histogram(
            "gotk_reconcile_duration_seconds",
            "The duration in seconds of a GitOps Toolkit resource reconciliation.",
            labels,
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self._condition = Gauge(
            "gotk_reconcile_condition",
            "The current condition status of a GitOps Toolkit resource reconciliation.",
            (*labels, "type", "status"),
            registry=self.registry,
        )
        self._suspend = Gauge(
            "gotk_suspend_status",
            "The current suspend status of a GitOps Toolkit resource.",
            labels,
            registry=self.registry,
        )
        self._condition_types: dict[ObjKey, set[str]] = {}

    def record_duration(self, kind: str, namespace: str, name: str, seconds: float) -> None:
        """Observe how long one reconcile of the object took."""
        self._duration.labels(kind, name, namespace).observe(seconds)

    def record_conditions(self, obj: Mapping[str, Any], types: Iterable[str] = _DEFAULT_TYPES) -> None:
        """Set 1 on the current status of each condition type and 0 on the others.

        An absent Ready counts as Unknown, an absent Reconciling/Stalled as False. An object with a
        deletionTimestamp has its series removed instead.
        """
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            self.forget(*_ref(obj))
            return
        ref = _ref(obj)
        kind, namespace, name = ref
        for type_ in types:
            condition = conditions.get(obj, type_)
            if condition is not None:
                current = str(condition.get("status", conditions.UNKNOWN))
            elif type_ in _NEGATIVE_POLARITY:
                current = conditions.FALSE
            else:
                current = conditions.UNKNOWN
            for status in _STATUSES:
                value = 1.0 if status == current else 0.0
                self._condition.labels(kind, name, namespace, type_, status).set(value)
            self._condition_types.setdefault(ref, set()).add(type_)

    def record_suspend(self, obj: Mapping[str, Any]) -> None:
        """1 while spec.suspend is true, else 0."""
        kind, namespace, name = _ref(obj)
        suspended = bool((obj.get("spec") or {}).get("suspend", False))
        self._suspend.labels(kind, name, namespace).set(1.0 if suspended else 0.0)

    def forget(self, kind: str, namespace: str, name: str) -> None:
        """Delete every series of an object that no longer exists."""
        for type_ in self._condition_types.pop((kind, namespace, name), set()):
            for status in _STATUSES:
                self._condition.remove(kind, name, namespace, type_, status)
        self._duration.remove(kind, name, namespace)
        self._suspend.remove(kind, name, namespace)

    def render(self) -> bytes:
        """The registry in Prometheus text exposition format (`CONTENT_TYPE`)."""
        return prometheus_client.generate_latest(self.registry)
