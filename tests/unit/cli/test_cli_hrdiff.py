"""Pure parts of `flux diff helmrelease`: which object holds the chart, and which CRD policy applies."""

from __future__ import annotations

import pytest

from gotk.cli.engines import hrdiff


def _hr(spec: dict[str, object], status: dict[str, object] | None = None) -> dict[str, object]:
    return {"metadata": {"name": "app", "namespace": "team"}, "spec": spec, "status": status or {}}


def test_chart_source() -> None:
    chart_ref = _hr({"chartRef": {"kind": "OCIRepository", "name": "podinfo"}})
    assert hrdiff.chart_source(chart_ref) == ("OCIRepository", "team", "podinfo")
    template = {"spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "r", "namespace": "s"}}}
    assert hrdiff.chart_source(_hr({"chart": template})) == ("HelmChart", "s", "team-app")
    assert hrdiff.chart_source(_hr({"chart": template}, {"helmChart": "x/y"})) == ("HelmChart", "x", "y")
    with pytest.raises(hrdiff.DiffError, match="one of spec"):
        hrdiff.chart_source(_hr({}))


def test_crds_policy_follows_the_next_action() -> None:
    assert hrdiff.crds_policy(_hr({})) == "Create"
    assert hrdiff.crds_policy(_hr({"install": {"crds": "Skip"}})) == "Skip"
    assert hrdiff.crds_policy(_hr({}, {"history": [{"version": 1}]})) == "Skip"
    assert hrdiff.crds_policy(_hr({"upgrade": {"crds": "CreateReplace"}}, {"history": [{"version": 1}]})) == (
        "CreateReplace"
    )
