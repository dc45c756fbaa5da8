"""The controller runtime on the real local control plane.

Covers a reconciler that sets conditions through the runtime, `reconcile.fluxcd.io/requestedAt`, `suspend`,
deletion through the `finalizers.fluxcd.io` finalizer, leader election on a Lease, and an API server restart
in the middle of a run (the controllers resume, without a crash and without duplicate work).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from gotk.api import meta
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import LEASES, Resource
from gotk.runtime import conditions
from gotk.runtime.manager import Manager, ManagerOptions
from gotk.runtime.reconciler import NamedStep, Request
from gotk.runtime.results import Result, StallingError
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster

GITREPOS = Resource("source.toolkit.fluxcd.io", "v1", "gitrepositories", "GitRepository")


@dataclass
class RecordingReconciler:
    """A small reconciler for the runtime: marks one owned condition and counts what it did."""

    controller_name: str = "runtime-test-controller"
    resource: Resource = GITREPOS
    condition_table: conditions.ConditionTable = field(
        default_factory=lambda: conditions.ConditionTable(
            owned=(meta.READY, meta.RECONCILING, meta.STALLED, "ArtifactInStorage"),
            summarize=("ArtifactInStorage",),
        )
    )
    reconciled: dict[str, int] = field(default_factory=dict)
    finalized: list[str] = field(default_factory=list)

    def new_state(self) -> None:
        return None

    def steps(self) -> Sequence[NamedStep[Any]]:
        return [NamedStep("validate", self._validate), NamedStep("store", self._store)]

    async def _validate(self, req: Request[Any]) -> Result | None:
        if req.spec.get("url", "").endswith("/stall"):
            raise StallingError("URLInvalid", f"invalid URL {req.spec['url']!r}")
        return None

    async def _store(self, req: Request[Any]) -> Result | None:
        self.reconciled[req.name] = self.reconciled.get(req.name, 0) + 1
        conditions.mark_true(req.obj, "ArtifactInStorage", meta.SUCCEEDED, f"stored artifact for {req.name}")
        return None

    async def finalize(self, req: Request[Any]) -> Result | None:
        self.finalized.append(req.name)
        return None

    def interval(self, obj: dict[str, Any]) -> float:
        return 3600.0

    def retry_interval(self, obj: dict[str, Any]) -> float | None:
        return None


def gitrepo(name: str, namespace: str, url: str = "https://example.invalid/repo") -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"url": url, "interval": "1h"},
    }


@pytest.fixture
async def client(cluster: Any) -> AsyncIterator[Client]:
    async with Client(config.load(cluster.kubeconfig)) as c:
        yield c


async def start(
    client: Client, watch_ns: str, rec: RecordingReconciler, **opts: Any
) -> tuple[Manager, asyncio.Event, asyncio.Task[None]]:
    manager = Manager(client, ManagerOptions(watch_namespace=watch_ns, **opts))
    manager.add(rec, concurrency=2)
    stop = asyncio.Event()
    task = asyncio.create_task(manager.run(stop))
    await eventually(lambda: _ready(manager), what="informers synced")
    return manager, stop, task


async def _ready(manager: Manager) -> bool:
    return manager.ready


async def ready_status(client: Client, name: str, namespace: str) -> dict[str, Any] | None:
    obj = await client.get_or_none(GITREPOS, name, namespace)
    if obj and conditions.is_ready(obj):
        return obj
    return None


async def test_conditions_requested_at_suspend_and_finalizer(client: Client, namespace: str) -> None:
    rec = RecordingReconciler()
    _, stop, task = await start(client, namespace, rec)
    try:
        await client.create(GITREPOS, gitrepo("app", namespace), namespace)

        async def is_ready() -> bool:
            return await ready_status(client, "app", namespace) is not None

        await eventually(is_ready, what="Ready=True")
        obj = await client.get(GITREPOS, "app", namespace)
        assert meta.FINALIZER in obj["metadata"]["finalizers"]
        assert obj["status"]["observedGeneration"] == 1
        ready = conditions.get(obj, meta.READY)
        assert ready is not None and ready["reason"] == meta.SUCCEEDED
        assert ready["message"] == "stored artifact for app"
        assert not conditions.is_reconciling(obj)
        assert rec.reconciled["app"] == 1

        # requestedAt triggers an immediate reconcile and is recorded as handled
        token = "2026-11-27T10:00:00.000000000Z"
        patch = {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: token}}}
        await client.patch(GITREPOS, "app", patch, namespace)

        async def handled() -> bool:
            o = await client.get(GITREPOS, "app", namespace)
            return bool(o.get("status", {}).get("lastHandledReconcileAt") == token)

        await eventually(handled, what="lastHandledReconcileAt")
        assert rec.reconciled["app"] == 2

        # a status-only change does not trigger work
        await asyncio.sleep(0.5)
        assert rec.reconciled["app"] == 2

        # suspended: requests are ignored
        await client.patch(GITREPOS, "app", {"spec": {"suspend": True}}, namespace)
        await asyncio.sleep(0.5)
        token2 = "2026-11-27T10:05:00.000000000Z"
        patch = {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: token2}}}
        await client.patch(GITREPOS, "app", patch, namespace)
        await asyncio.sleep(1.0)
        assert rec.reconciled["app"] == 2

        # resumed: reconciled again
        await client.patch(GITREPOS, "app", {"spec": {"suspend": False}}, namespace)

        async def resumed() -> bool:
            return rec.reconciled["app"] == 3

        await eventually(resumed, what="reconcile after resume")

        # deletion runs the finalizer step and removes the finalizer
        await client.delete(GITREPOS, "app", namespace)

        async def gone() -> bool:
            return await client.get_or_none(GITREPOS, "app", namespace) is None

        await eventually(gone, what="object deleted")
        assert rec.finalized == ["app"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_stalled_and_metrics(client: Client, namespace: str) -> None:
    rec = RecordingReconciler()
    manager, stop, task = await start(client, namespace, rec)
    try:
        await client.create(GITREPOS, gitrepo("bad", namespace, "https://example.invalid/stall"), namespace)

        async def stalled() -> bool:
            o = await client.get(GITREPOS, "bad", namespace)
            return conditions.is_stalled(o)

        await eventually(stalled, what="Stalled=True")
        obj = await client.get(GITREPOS, "bad", namespace)
        ready = conditions.get(obj, meta.READY)
        assert ready is not None and ready["status"] == "False" and ready["reason"] == "URLInvalid"
        assert "invalid URL" in ready["message"]
        text = manager.metrics.render().decode()
        assert "gotk_reconcile_duration_seconds" in text
        assert f'gotk_reconcile_condition{{kind="GitRepository",name="bad",namespace="{namespace}"' in text
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_leader_election_lease(client: Client, namespace: str) -> None:
    rec = RecordingReconciler(controller_name=f"lease-test-{namespace}")
    _, stop, task = await start(client, namespace, rec, leader_election=True, namespace=namespace)
    try:
        lease = await client.get(LEASES, f"lease-test-{namespace}-leader-election", namespace)
        assert lease["spec"]["holderIdentity"]
        await client.create(GITREPOS, gitrepo("led", namespace), namespace)

        async def is_ready() -> bool:
            return await ready_status(client, "led", namespace) is not None

        await eventually(is_ready, what="Ready under leader election")
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    lease = await client.get(LEASES, f"lease-test-{namespace}-leader-election", namespace)
    assert not lease["spec"].get("holderIdentity"), "lease released on graceful shutdown"


async def test_apiserver_restart_mid_run(cluster: Any, client: Client, namespace: str) -> None:
    rec = RecordingReconciler()
    manager, stop, task = await start(client, namespace, rec)
    try:
        for i in range(3):
            await client.create(GITREPOS, gitrepo(f"r{i}", namespace), namespace)

        async def all_ready() -> bool:
            return all([await ready_status(client, f"r{i}", namespace) is not None for i in range(3)])

        await eventually(all_ready, what="three objects Ready")
        before = dict(rec.reconciled)
        assert before == {"r0": 1, "r1": 1, "r2": 1}

        await asyncio.to_thread(cluster.restart_apiserver)

        # the controllers are still alive and pick up new work after the restart
        await client.create(GITREPOS, gitrepo("after", namespace), namespace)

        async def after_ready() -> bool:
            return await ready_status(client, "after", namespace) is not None

        await eventually(after_ready, timeout=90, what="new object Ready after the restart")
        assert not task.done(), "manager crashed"
        # no duplicate work: the objects that did not change were not reconciled again
        assert {k: rec.reconciled[k] for k in before} == before
        assert rec.reconciled["after"] == 1
        assert manager.controllers[0].informer.reconnects >= 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
