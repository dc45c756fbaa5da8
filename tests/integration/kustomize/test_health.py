"""Health checks after apply.

Covers: `healthChecks` naming a Deployment → Ready and Healthy=True; a never-ready Deployment (unschedulable)
with a short `timeout` → Ready=False HealthCheckFailed naming it; `healthCheckExprs` with CEL over a custom
resource's status (InProgress until the test sets it, Failed on the `failed` expression); fail-fast on
Stalled: a custom resource with Stalled=True and a Deployment past its progressDeadlineSeconds both fail
well before a 60s timeout.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from gotk.api import meta
from gotk.kube.resources import Resource
from gotk.runtime import conditions

pytestmark = pytest.mark.cluster

GADGETS = Resource("health.gotk.io", "v1", "gadgets", "Gadget")
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.health.gotk.io
spec:
  group: health.gotk.io
  names: {kind: Gadget, plural: gadgets, singular: gadget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


def gadget(name: str) -> str:
    return f"apiVersion: health.gotk.io/v1\nkind: Gadget\nmetadata:\n  name: {name}\nspec:\n  size: 1\n"


def deployment(name: str, extra_spec: str = "", pod_spec: str = "") -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1
{extra_spec}  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
{pod_spec}      containers:
      - name: app
        image: nginx:1.27
"""


UNSCHEDULABLE = "      nodeSelector: {no-such-node: 'true'}\n"
FILES = {
    "ok/app.yaml": deployment("app"),
    "stuck/stuck.yaml": deployment("stuck", pod_spec=UNSCHEDULABLE),
    "deadline/late.yaml": deployment("late", "  progressDeadlineSeconds: 1\n", UNSCHEDULABLE),
    "crd/crd.yaml": CRD,
    "gadgets/gadget.yaml": gadget("g1"),
    "stalled/gadget.yaml": gadget("g2"),
}
EXPRS = [
    {
        "apiVersion": "health.gotk.io/v1",
        "kind": "Gadget",
        "current": "status.phase == 'Running'",
        "failed": "status.phase == 'Broken'",
    }
]


def check(kind: str, name: str, namespace: str, api_version: str = "apps/v1") -> dict[str, str]:
    return {"apiVersion": api_version, "kind": kind, "name": name, "namespace": namespace}


async def test_health_checks_and_timeout(harness: Any) -> None:
    ns = harness.namespace
    revision = harness.repo(FILES)
    await harness.start()
    await harness.source()
    await harness.create_ks("ok", "./ok", healthChecks=[check("Deployment", "app", ns)])
    await harness.create_ks("stuck", "./stuck", timeout="4s", healthChecks=[check("Deployment", "stuck", ns)])

    ks = await harness.applied("ok", revision)
    healthy = conditions.get(ks, meta.HEALTHY)
    assert healthy is not None and healthy["status"] == "True", ks["status"]["conditions"]

    ks = await harness.not_ready("stuck", meta.HEALTH_CHECK_FAILED, revision=revision)
    message = conditions.get_message(ks, meta.READY)
    assert "timeout waiting for" in message and f"Deployment/{ns}/stuck" in message, message
    assert conditions.get_reason(ks, meta.HEALTHY) == meta.HEALTH_CHECK_FAILED
    ids = {e["id"] for e in ks["status"]["inventory"]["entries"]}
    assert f"{ns}_stuck_apps_Deployment" in ids, "applied objects are tracked even when unhealthy"


async def test_cel_health_and_fail_fast(harness: Any) -> None:
    ns = harness.namespace
    client = harness.client
    revision = harness.repo(FILES)
    await harness.start()
    await harness.source()
    await harness.create_ks("crd", "./crd", targetNamespace=None)
    await harness.applied("crd", revision)

    # CEL: InProgress until the status says Running
    gadget_check = [check("Gadget", "g1", ns, "health.gotk.io/v1")]
    await harness.create_ks("gadgets", "./gadgets", healthChecks=gadget_check, healthCheckExprs=EXPRS)

    async def created() -> bool:
        return await client.get_or_none(GADGETS, "g1", ns) is not None

    await harness.eventually(created, 20, "the Gadget applied")
    ks = await harness.get_ks("gadgets")
    assert not conditions.is_ready(ks), "not Ready while the CEL check is in progress"
    await client.patch(GADGETS, "g1", {"status": {"phase": "Running"}}, ns, subresource="status")
    ks = await harness.applied("gadgets", revision)
    assert conditions.get(ks, meta.HEALTHY)["status"] == "True"

    # the `failed` expression ends the wait early
    await client.patch(GADGETS, "g1", {"status": {"phase": "Broken"}}, ns, subresource="status")
    await harness.patch_ks("gadgets", {"spec": {"timeout": "60s", "interval": "2s"}})
    ks = await harness.not_ready("gadgets", meta.HEALTH_CHECK_FAILED, timeout=20)
    assert f"Gadget/{ns}/g1 status: 'Failed'" in conditions.get_message(ks, meta.READY)

    # fail-fast on Stalled=True (kstatus) for a custom resource without CEL checks
    stalled = {
        "observedGeneration": 1,
        "conditions": [{"type": "Stalled", "status": "True", "reason": "Broken", "message": "cannot work"}],
    }
    started = time.monotonic()
    await harness.create_ks(
        "stalled", "./stalled", timeout="60s", healthChecks=[check("Gadget", "g2", ns, "health.gotk.io/v1")]
    )
    await harness.eventually(lambda: client.get_or_none(GADGETS, "g2", ns), 20, "the second Gadget applied")
    await client.patch(GADGETS, "g2", {"status": stalled}, ns, subresource="status")
    ks = await harness.not_ready("stalled", meta.HEALTH_CHECK_FAILED, timeout=30)
    message = conditions.get_message(ks, meta.READY)
    assert "failed early due to stalled resources" in message and f"Gadget/{ns}/g2" in message, message
    assert time.monotonic() - started < 30, "failed well before the 60s timeout"

    # a Deployment past its progress deadline is Stalled too
    started = time.monotonic()
    await harness.create_ks("late", "./deadline", timeout="60s", healthChecks=[check("Deployment", "late", ns)])
    ks = await harness.not_ready("late", meta.HEALTH_CHECK_FAILED, timeout=40)
    message = conditions.get_message(ks, meta.READY)
    assert "failed early" in message and f"Deployment/{ns}/late" in message, message
    assert time.monotonic() - started < 40


async def test_progress_shown_while_health_checks_run(harness: Any) -> None:
    """A long health wait is visible while it runs: Reconciling=True and Ready=Unknown with what it waits for,
    then the final outcome replaces both."""
    ns = harness.namespace
    revision = harness.repo(FILES)
    await harness.start()
    await harness.source()
    await harness.create_ks("slow", "./stuck", timeout="8s", healthChecks=[check("Deployment", "stuck", ns)])
    seen: dict[str, Any] = {}

    async def in_progress() -> bool:
        ks = await harness.get_ks("slow")
        ready = conditions.get(ks, meta.READY) or {}
        seen.update(ready)
        return conditions.is_reconciling(ks) and ready.get("status") == "Unknown"

    await harness.eventually(in_progress, 20, "progress written during the health wait")
    assert seen["reason"] == meta.PROGRESSING
    assert seen["message"].startswith(f"Running health checks for revision {revision} with a timeout of 8s")
    ks = await harness.not_ready("slow", meta.HEALTH_CHECK_FAILED, revision=revision)
    assert conditions.get_reason(ks, meta.RECONCILING) != meta.PROGRESSING
