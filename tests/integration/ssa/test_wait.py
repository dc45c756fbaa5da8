"""HealthWatcher on the real local control plane (kcm, scheduler and kwok make Deployments and Jobs progress).

Covers a 2-replica Deployment going Current with the waiter woken from the watch (within a second of the
Deployment turning Available, with no GET while waiting), a Job completing, a Deployment that exceeds its
progress deadline and a custom resource patched to Stalled=True both failing fast, a timeout naming the
unhealthy objects in Flux's words, and a custom CEL health check on a custom resource.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import CRDS, DEPLOYMENTS, Resource
from gotk.runtime.informer import Informer
from gotk.ssa import status
from gotk.ssa.wait import HealthWatcher, ObjRef

pytestmark = pytest.mark.cluster

GROUP = "health.gotk.test"
WIDGETS = Resource(GROUP, "v1", "widgets", "Widget")
JOBS = Resource("batch", "v1", "jobs", "Job")
WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "names": {"kind": "Widget", "listKind": "WidgetList", "plural": "widgets", "singular": "widget"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }
        ],
    },
}


@pytest.fixture
async def client(cluster: Any) -> AsyncIterator[Client]:
    async with Client(config.load(cluster.kubeconfig)) as c:
        yield c
    await asyncio.sleep(0.05)  # let the closed transports run their connection_lost before the loop may close


@pytest.fixture
async def watcher(client: Client) -> AsyncIterator[HealthWatcher]:
    w = HealthWatcher(client)
    yield w
    await w.stop()


@pytest.fixture
async def widgets(client: Client, watcher: HealthWatcher) -> Resource:
    """The Widget CRD, applied once per session (idempotent) and waited for with the watcher itself."""
    await client.apply(CRDS, WIDGET_CRD, field_manager="gotk-test")
    crd = ObjRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", f"widgets.{GROUP}")
    result = await watcher.wait([crd], timeout=30)
    assert result.healthy, result.message()
    return WIDGETS


def deployment(name: str, replicas: int, **spec: Any) -> dict[str, Any]:
    pod_spec = {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}], **spec.pop("pod", {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec},
            **spec,
        },
    }


def widget(name: str) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": name}, "spec": {"size": 1}}


async def set_conditions(client: Client, namespace: str, name: str, *conds: tuple[str, str, str]) -> None:
    conditions = [
        {"type": t, "status": s, "reason": r, "message": f"{t} is {s}", "lastTransitionTime": "2026-01-01T00:00:00Z"}
        for t, s, r in conds
    ]
    await client.patch(WIDGETS, name, {"status": {"conditions": conditions}}, namespace, subresource="status")


async def test_deployment_current_from_the_watch(
    client: Client, watcher: HealthWatcher, cluster: Any, namespace: str
) -> None:
    # An independent observer (own client, own informer) records when the Deployment turned Current.
    current_at: list[float] = []
    async with Client(config.load(cluster.kubeconfig)) as observer_client:
        observer = Informer(observer_client, DEPLOYMENTS, namespace=namespace)

        def seen(old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
            if new is not None and not current_at and status.compute(new).status == "Current":
                current_at.append(time.monotonic())

        observer.add_handler(seen)
        observe = asyncio.create_task(observer.run())
        try:
            await observer.wait_synced(10)
            await client.resource_for("apps/v1", "Deployment")  # discovery outside the counted window
            gets: list[str] = []
            original = client.request

            async def counting(method: str, path: str, **kw: Any) -> Any:
                gets.append(f"{method} {path}")
                return await original(method, path, **kw)

            client.request = counting  # type: ignore[method-assign]
            await client.create(DEPLOYMENTS, deployment("web", 2), namespace)
            ref = ObjRef("apps/v1", "Deployment", namespace, "web")
            result = await watcher.wait([ref], timeout=60)
            woke_at = time.monotonic()
            client.request = original  # type: ignore[method-assign]
            for _ in range(50):  # the observer's own watch may deliver the same event a moment later
                if current_at:
                    break
                await asyncio.sleep(0.1)
        finally:
            observe.cancel()
            await asyncio.gather(observe, return_exceptions=True)
    assert result.healthy, result.message()
    assert result.statuses[ref].message == "Deployment is available. Replicas: 2"
    assert current_at, "the observer never saw the Deployment Current"
    assert woke_at - current_at[0] < 1.0
    # one create and one list for the shared informer; everything else came over the watch
    assert [g.split(" ")[0] for g in gets] == ["POST", "GET"], gets


async def test_job_completes(client: Client, watcher: HealthWatcher, namespace: str) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate"},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "m", "image": "busybox", "command": ["true"]}],
                }
            },
        },
    }
    await client.create(JOBS, job, namespace)
    result = await watcher.wait([ObjRef("batch/v1", "Job", namespace, "migrate")], timeout=60)
    assert result.healthy, result.message()
    assert result.statuses[ObjRef("batch/v1", "Job", namespace, "migrate")].message.startswith("Job completed")


async def test_deployment_past_its_progress_deadline_fails_fast(
    client: Client, watcher: HealthWatcher, namespace: str
) -> None:
    stuck = deployment("stuck", 1, progressDeadlineSeconds=1, pod={"nodeSelector": {"no-such-label": "x"}})
    await client.create(DEPLOYMENTS, stuck, namespace)
    began = time.monotonic()
    result = await watcher.wait([ObjRef("apps/v1", "Deployment", namespace, "stuck")], timeout=90)
    assert not result.timed_out and time.monotonic() - began < 45
    assert result.message() == f"failed early due to stalled resources: [Deployment/{namespace}/stuck status: 'Failed']"


async def test_stalled_custom_resource_fails_fast(
    client: Client, watcher: HealthWatcher, widgets: Resource, namespace: str
) -> None:
    await client.create(widgets, widget("w1"), namespace)
    await set_conditions(client, namespace, "w1", ("Ready", "False", "Progressing"))
    began = time.monotonic()
    task = asyncio.create_task(watcher.wait([ObjRef(f"{GROUP}/v1", "Widget", namespace, "w1")], timeout=60))
    await asyncio.sleep(0.5)
    assert not task.done()
    await set_conditions(client, namespace, "w1", ("Ready", "False", "Broken"), ("Stalled", "True", "Broken"))
    result = await asyncio.wait_for(task, 10)
    assert time.monotonic() - began < 5
    assert result.failed == [(ObjRef(f"{GROUP}/v1", "Widget", namespace, "w1"), "Stalled is True")]
    assert result.message() == f"failed early due to stalled resources: [Widget/{namespace}/w1 status: 'Failed']"


async def test_timeout_names_the_unhealthy_objects(
    client: Client, watcher: HealthWatcher, widgets: Resource, namespace: str
) -> None:
    await client.create(widgets, widget("slow"), namespace)
    await set_conditions(client, namespace, "slow", ("Ready", "False", "Waiting"))
    await client.create(widgets, widget("fine"), namespace)
    refs = [
        ObjRef(f"{GROUP}/v1", "Widget", namespace, "slow"),
        ObjRef(f"{GROUP}/v1", "Widget", namespace, "fine"),
        ObjRef("v1", "ConfigMap", namespace, "missing"),
    ]
    began = time.monotonic()
    result = await watcher.wait(refs, timeout=2)
    assert 2 <= time.monotonic() - began < 4
    assert result.timed_out and not result.healthy
    assert [r.name for r, _ in result.in_progress] == ["slow", "missing"]
    assert result.message() == (
        f"timeout waiting for: [Widget/{namespace}/slow status: 'InProgress', "
        f"ConfigMap/{namespace}/missing status: 'NotFound']"
    )


async def test_custom_cel_health_check(
    client: Client, watcher: HealthWatcher, widgets: Resource, namespace: str
) -> None:
    check = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Widget",
        "inProgress": "has(status.phase) && status.phase == 'Provisioning'",
        "failed": "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'False')",
        "current": "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'True')",
    }
    await client.create(widgets, widget("cel"), namespace)
    ref = ObjRef(f"{GROUP}/v1", "Widget", namespace, "cel")
    task = asyncio.create_task(watcher.wait([ref], timeout=60, custom=[check]))
    # no status yet: `status.conditions` cannot be evaluated, so the object is Unknown and the wait goes on
    await client.patch(
        WIDGETS, "cel", {"status": {"phase": "Provisioning", "conditions": []}}, namespace, subresource="status"
    )
    await asyncio.sleep(0.5)
    assert not task.done()
    synced = {"type": "Synced", "status": "True", "reason": "Done", "lastTransitionTime": "2026-01-01T00:00:00Z"}
    ready = {"status": {"phase": "Ready", "conditions": [synced]}}  # one patch: `[]` alone would match `failed`
    await client.patch(WIDGETS, "cel", ready, namespace, subresource="status")
    result = await asyncio.wait_for(task, 10)
    assert result.healthy, result.message()
    assert result.statuses[ref].message == "healthCheckExprs: current expression is true"
