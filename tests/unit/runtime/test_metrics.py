"""metrics: the gotk_* series on a private registry — duration buckets (10 exponential, 10 ms..1800 s),
one-hot condition gauges with Flux's absent-condition defaults, suspend, series removal on deletion,
and the exposition output.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gotk.api import meta
from gotk.runtime import conditions
from gotk.runtime import metrics as gotk_metrics

KIND, NS, NAME = "Kustomization", "flux-system", "apps"


def make(**extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"kind": KIND, "metadata": {"name": NAME, "namespace": NS, "generation": 1}, "spec": {}}
    obj.update(extra)
    return obj


def condition_value(m: gotk_metrics.Metrics, type_: str, status: str) -> float | None:
    labels = {"kind": KIND, "name": NAME, "namespace": NS, "type": type_, "status": status}
    return m.registry.get_sample_value("gotk_reconcile_condition", labels)


def one_hot(m: gotk_metrics.Metrics, type_: str) -> dict[str, float | None]:
    return {status: condition_value(m, type_, status) for status in ("True", "False", "Unknown")}


def test_duration_buckets_are_10_exponential_from_10ms_to_1800s() -> None:
    buckets = gotk_metrics.DURATION_BUCKETS
    assert len(buckets) == 10
    assert buckets[0] == pytest.approx(0.01) and buckets[-1] == pytest.approx(1800)
    ratios = {round(b / a, 9) for a, b in itertools.pairwise(buckets)}
    assert len(ratios) == 1


def test_record_duration() -> None:
    m = gotk_metrics.Metrics()
    m.record_duration(KIND, NS, NAME, 0.5)
    m.record_duration(KIND, NS, NAME, 2.5)
    labels = {"kind": KIND, "name": NAME, "namespace": NS}
    assert m.registry.get_sample_value("gotk_reconcile_duration_seconds_count", labels) == 2
    assert m.registry.get_sample_value("gotk_reconcile_duration_seconds_sum", labels) == 3.0
    assert m.registry.get_sample_value("gotk_reconcile_duration_seconds_bucket", {**labels, "le": "+Inf"}) == 2


def test_record_conditions_is_one_hot_and_follows_transitions() -> None:
    m = gotk_metrics.Metrics()
    obj = make()
    conditions.mark_true(obj, meta.READY, meta.RECONCILIATION_SUCCEEDED, "applied")
    m.record_conditions(obj)
    assert one_hot(m, meta.READY) == {"True": 1, "False": 0, "Unknown": 0}
    conditions.mark_false(obj, meta.READY, meta.RECONCILIATION_FAILED, "boom")
    m.record_conditions(obj)
    assert one_hot(m, meta.READY) == {"True": 0, "False": 1, "Unknown": 0}


def test_absent_conditions_use_flux_defaults() -> None:
    m = gotk_metrics.Metrics()
    m.record_conditions(make())
    assert one_hot(m, meta.READY) == {"True": 0, "False": 0, "Unknown": 1}
    assert one_hot(m, meta.RECONCILING) == {"True": 0, "False": 1, "Unknown": 0}
    assert one_hot(m, meta.STALLED) == {"True": 0, "False": 1, "Unknown": 0}


def test_record_conditions_for_chosen_types() -> None:
    m = gotk_metrics.Metrics()
    obj = make()
    conditions.mark_true(obj, meta.HEALTHY, meta.SUCCEEDED, "")
    m.record_conditions(obj, types=[meta.HEALTHY])
    assert one_hot(m, meta.HEALTHY) == {"True": 1, "False": 0, "Unknown": 0}
    assert condition_value(m, meta.READY, "Unknown") is None


def test_record_suspend() -> None:
    m = gotk_metrics.Metrics()
    labels = {"kind": KIND, "name": NAME, "namespace": NS}
    m.record_suspend(make(spec={"suspend": True}))
    assert m.registry.get_sample_value("gotk_suspend_status", labels) == 1
    m.record_suspend(make())
    assert m.registry.get_sample_value("gotk_suspend_status", labels) == 0


def test_deleted_object_loses_its_condition_series() -> None:
    m = gotk_metrics.Metrics()
    obj = make()
    conditions.mark_true(obj, meta.READY, meta.SUCCEEDED, "")
    m.record_conditions(obj)
    obj["metadata"]["deletionTimestamp"] = "2026-03-01T12:00:00Z"
    m.record_conditions(obj)
    assert one_hot(m, meta.READY) == {"True": None, "False": None, "Unknown": None}


def test_forget_removes_every_series_of_the_object_only() -> None:
    m = gotk_metrics.Metrics()
    other = make(metadata={"name": "other", "namespace": NS})
    for obj in (make(), other):
        m.record_conditions(obj)
        m.record_suspend(obj)
        m.record_duration(KIND, NS, obj["metadata"]["name"], 1.0)
    m.forget(KIND, NS, NAME)
    text = m.render().decode()
    assert f'name="{NAME}"' not in text
    assert 'name="other"' in text
    m.forget(KIND, NS, NAME)  # idempotent


def test_render_is_prometheus_exposition() -> None:
    m = gotk_metrics.Metrics()
    m.record_duration(KIND, NS, NAME, 0.2)
    m.record_conditions(make())
    m.record_suspend(make())
    families = {f.name: f for f in text_string_to_metric_families(m.render().decode())}
    assert families["gotk_reconcile_duration_seconds"].type == "histogram"
    assert families["gotk_reconcile_condition"].type == "gauge"
    assert families["gotk_suspend_status"].type == "gauge"
    buckets = [s for s in families["gotk_reconcile_duration_seconds"].samples if s.name.endswith("_bucket")]
    assert len(buckets) == 11  # 10 buckets + Inf
    assert gotk_metrics.CONTENT_TYPE.startswith("text/plain")


def test_each_metrics_instance_owns_its_registry() -> None:
    first, second = gotk_metrics.Metrics(), gotk_metrics.Metrics()
    first.record_suspend(make())
    assert (
        second.registry.get_sample_value("gotk_suspend_status", {"kind": KIND, "name": NAME, "namespace": NS}) is None
    )
