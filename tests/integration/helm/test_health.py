"""spec.healthCheckExprs on the real control plane: Helm's wait judges a custom resource by the CEL expressions
(its status is in the chart, as the CRD has no status subresource): `current` true releases, `failed` true fails
the release with the expression named, neither true keeps the wait going until the timeout; an expression that
does not parse stalls the HelmRelease before Helm runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gotk.api import helm_conditions as hc
from gotk.api import meta
from gotk.kube.resources import HELMRELEASES, HELMREPOSITORIES
from gotk.runtime import conditions
from gotk.testing import helm, webapp_chart
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release

pytestmark = pytest.mark.cluster
Obj = dict[str, Any]
WIDGET = f"""\
apiVersion: {webapp_chart.CRD_GROUP}/v1
kind: Widget
metadata:
  name: {{{{ .Release.Name }}}}
spec:
  size: 1
status:
  phase: {{{{ .Values.phase | quote }}}}
"""
EXPRS = [
    {
        "apiVersion": f"{webapp_chart.CRD_GROUP}/v1",
        "kind": "Widget",
        "current": "status.phase == 'Ready'",
        "failed": "status.phase == 'Broken'",
    }
]


def _released(obj: Obj) -> Obj:
    return conditions.get(obj, hc.RELEASED) or {}


async def test_health_check_exprs_judge_custom_resources(env: Env, tmp_path: Path) -> None:
    c, ns = env.client, env.namespace
    chart = helm.write_chart(
        tmp_path / "src",
        "widgets",
        "1.0.0",
        values={"phase": "Ready"},
        templates={"widget.yaml": WIDGET},
        extra_files={"crds/widgets.yaml": webapp_chart.CRD},
    )
    helm.package(chart, env.repo)
    helm.repo_index(env.repo)
    request = {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: "widgets"}}}
    await c.patch(HELMREPOSITORIES, "charts", request, ns)

    def release(name: str, phase: str, **spec: Any) -> Obj:
        body = helmrelease(name, chart="widgets", version="1.0.0", values={"phase": phase}, **spec)
        body["spec"].setdefault("healthCheckExprs", EXPRS)
        return body

    await c.create(HELMRELEASES, release("ready", "Ready"), ns)
    await wait_release(env, "ready", ready_at(1), "released: the current expression is true")

    await c.create(HELMRELEASES, release("broken", "Broken", timeout="30s"), ns)

    def failed(obj: Obj) -> bool:
        return _released(obj).get("reason") == hc.INSTALL_FAILED

    obj = await wait_release(env, "broken", failed, "the failed expression fails the install")
    assert "failed expression is true" in _released(obj)["message"], _released(obj)

    await c.create(HELMRELEASES, release("pending", "Pending", timeout="5s"), ns)
    obj = await wait_release(env, "pending", failed, "no expression true: the wait times out")
    assert "Widget" in _released(obj)["message"], _released(obj)

    bad = [{"apiVersion": f"{webapp_chart.CRD_GROUP}/v1", "kind": "Widget", "current": "status.phase =="}]
    await c.create(HELMRELEASES, release("invalid", "Ready", healthCheckExprs=bad), ns)

    def stalled(obj: Obj) -> bool:
        return (conditions.get(obj, meta.STALLED) or {}).get("reason") == meta.INVALID_CEL_EXPRESSION

    await wait_release(env, "invalid", stalled, "the unparsable expression stalls the HelmRelease")
