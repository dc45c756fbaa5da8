"""ssa.wait without a cluster: fake informers pushed by the test drive `HealthWatcher.wait`. Covers waking on
events (no polling), fail-fast and the early end on only Current/Failed, timeouts naming the unhealthy objects
in Flux's words, NotFound and TTL Jobs, shared informers, unknown kinds, cluster scope, time-based rechecks,
custom CEL checks given as spec dicts, and `stop()`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from gotk.kube.client import Client
from gotk.kube.errors import ResourceNotFound
from gotk.kube.resources import Resource
from gotk.runtime.informer import Handler, Informer
from gotk.ssa.wait import HealthWatcher, ObjRef

Obj = dict[str, Any]
WIDGETS = Resource("example.com", "v1", "widgets", "Widget")
NODES = Resource("", "v1", "nodes", "Node", namespaced=False)
PODS = Resource("", "v1", "pods", "Pod")
JOBS = Resource("batch", "v1", "jobs", "Job")
KNOWN = {r.kind: r for r in (WIDGETS, NODES, PODS, JOBS)}


class FakeInformer(Informer):
    """An informer whose store the test writes; `run` only marks it synced."""

    def __init__(self, client: Client, resource: Resource) -> None:
        super().__init__(client, resource)
        self.objects: dict[tuple[str, str], Obj] = {}
        self.handlers: list[Handler] = []
        self.cancelled = False

    def add_handler(self, handler: Handler) -> None:
        self.handlers.append(handler)

    def get(self, namespace: str, name: str) -> Obj | None:
        return self.objects.get((namespace, name))

    async def run(self) -> None:
        self.synced.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise

    def put(self, obj: Obj) -> None:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        old = self.objects.get(key)
        self.objects[key] = obj
        for handler in self.handlers:
            handler(old, obj)


class FakeClient:
    def __init__(self) -> None:
        self.discovery_calls = 0

    async def resource_for(self, api_version: str, kind: str) -> Resource:
        self.discovery_calls += 1
        if kind not in KNOWN:
            raise ResourceNotFound(api_version, kind)
        return KNOWN[kind]


class Harness:
    def __init__(self) -> None:
        self.informers: dict[Resource, FakeInformer] = {}
        self.watcher = HealthWatcher(cast(Client, FakeClient()), informer_factory=self._make)

    def _make(self, client: Client, resource: Resource) -> Informer:
        informer = FakeInformer(client, resource)
        self.informers[resource] = informer
        return informer

    def put(self, resource: Resource, obj: Obj) -> None:
        self.informers[resource].put(obj)


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    harness = Harness()
    yield harness
    await harness.watcher.stop()


def widget(name: str, *conds: tuple[str, str], ns: str = "ns") -> Obj:
    conditions = [{"type": t, "status": s, "reason": "R", "message": f"{t}={s}"} for t, s in conds]
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": ns},
        "status": {"conditions": conditions},
    }


def ref(name: str, kind: str = "Widget", api_version: str = "example.com/v1", ns: str = "ns") -> ObjRef:
    return ObjRef(api_version, kind, ns, name)


async def start(h: Harness, refs: list[ObjRef], **kw: Any) -> asyncio.Task[Any]:
    task = asyncio.create_task(h.watcher.wait(refs, **kw))
    for _ in range(20):  # let the wait resolve kinds, start informers and subscribe
        await asyncio.sleep(0)
    return task


async def test_no_refs_is_healthy(h: Harness) -> None:
    result = await h.watcher.wait([], timeout=1)
    assert result.healthy and result.message() == ""


async def test_wakes_on_the_event_that_makes_it_current(h: Harness) -> None:
    task = await start(h, [ref("a")], timeout=30)
    h.put(WIDGETS, widget("a", ("Ready", "False")))
    await asyncio.sleep(0.05)
    assert not task.done()
    began = time.monotonic()
    h.put(WIDGETS, widget("a", ("Ready", "True")))
    result = await asyncio.wait_for(task, 1)
    assert time.monotonic() - began < 0.2
    assert result.healthy and not result.timed_out and result.failed == [] and result.in_progress == []
    assert result.statuses[ref("a")].status == "Current"


async def test_fail_fast_on_stalled(h: Harness) -> None:
    task = await start(h, [ref("a"), ref("b")], timeout=30)
    h.put(WIDGETS, widget("b", ("Ready", "False")))
    h.put(WIDGETS, widget("a", ("Stalled", "True")))
    result = await asyncio.wait_for(task, 1)
    assert not result.healthy and not result.timed_out
    assert result.failed == [(ref("a"), "Stalled=True")]
    assert result.in_progress == [(ref("b"), "Ready=False")]
    assert result.message() == "failed early due to stalled resources: [Widget/ns/a status: 'Failed']"


async def test_without_fail_fast_waits_for_the_timeout(h: Harness) -> None:
    # the timeout leaves room for the puts to be seen on a loaded machine
    task = await start(h, [ref("a"), ref("b"), ref("c")], timeout=1.5, fail_fast=False)
    h.put(WIDGETS, widget("a", ("Stalled", "True")))
    h.put(WIDGETS, widget("b", ("Ready", "False")))
    h.put(WIDGETS, widget("c", ("Ready", "True")))
    result = await asyncio.wait_for(task, 10)
    assert result.timed_out and not result.healthy
    assert result.message() == ("timeout waiting for: [Widget/ns/a status: 'Failed', Widget/ns/b status: 'InProgress']")


async def test_only_current_and_failed_left_ends_early_without_fail_fast(h: Harness) -> None:
    task = await start(h, [ref("a"), ref("b")], timeout=30, fail_fast=False)
    h.put(WIDGETS, widget("a", ("Stalled", "True")))
    h.put(WIDGETS, widget("b", ("Ready", "True")))
    result = await asyncio.wait_for(task, 1)
    assert not result.healthy and not result.timed_out
    assert result.message() == "failed early due to stalled resources: [Widget/ns/a status: 'Failed']"


async def test_missing_objects_are_not_found_and_ttl_jobs_count_as_current(h: Harness) -> None:
    job = ref("migrate", "Job", "batch/v1")
    result = await h.watcher.wait([ref("gone"), job], timeout=0.1)
    assert result.timed_out
    assert result.message() == (
        "timeout waiting for: [Widget/ns/gone status: 'NotFound', Job/ns/migrate status: 'NotFound']"
    )
    result = await h.watcher.wait([job], timeout=5, jobs_with_ttl=[job])
    assert result.healthy


async def test_informers_are_shared_per_resource(h: Harness) -> None:
    first = await start(h, [ref("a"), ref("b")], timeout=30)
    second = await start(h, [ref("a"), ref("p", "Pod", "v1")], timeout=30)
    assert set(h.informers) == {WIDGETS, PODS}
    assert set(h.watcher.resources) == {WIDGETS, PODS}
    h.put(WIDGETS, widget("a", ("Ready", "True")))
    h.put(WIDGETS, widget("b", ("Ready", "True")))
    assert (await asyncio.wait_for(first, 1)).healthy
    assert not second.done()
    h.put(
        PODS,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns"},
            "status": {"phase": "Succeeded"},
        },
    )
    assert (await asyncio.wait_for(second, 1)).healthy
    third = await h.watcher.wait([ref("a")], timeout=1)
    assert third.healthy and len(h.informers) == 2


async def test_unknown_kind_is_unknown_until_the_timeout(h: Harness) -> None:
    result = await h.watcher.wait([ref("x", "Gizmo", "gizmos.io/v1")], timeout=0.1)
    assert result.timed_out
    assert result.message() == (
        'timeout waiting for: [Gizmo/ns/x status: \'Unknown\': no matches for kind "Gizmo" in version "gizmos.io/v1"]'
    )


async def test_cluster_scoped_objects_ignore_the_namespace(h: Harness) -> None:
    task = await start(h, [ObjRef("v1", "Node", "ns", "n1"), ObjRef("v1", "Node", "", "n2")], timeout=1.5)
    h.put(NODES, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    result = await asyncio.wait_for(task, 10)
    assert result.statuses[ObjRef("v1", "Node", "ns", "n1")].status == "Current"
    assert result.message() == "timeout waiting for: [Node/n2 status: 'NotFound']"


async def test_time_alone_can_fail_an_unschedulable_pod(h: Harness) -> None:
    created = (datetime.now(UTC) - timedelta(seconds=14.7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "ns", "creationTimestamp": created},
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}],
        },
    }
    task = await start(h, [ref("p", "Pod", "v1")], timeout=10)
    h.put(PODS, pod)
    result = await asyncio.wait_for(task, 3)  # no further event: the recheck time wakes the waiter
    assert result.failed == [(ref("p", "Pod", "v1"), "Pod could not be scheduled")]


async def test_custom_checks_from_spec_dicts(h: Harness) -> None:
    spec = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "current": "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'True')",
        "failed": "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'False')",
    }
    task = await start(h, [ref("a")], timeout=30, custom=[spec])
    h.put(WIDGETS, widget("a", ("Synced", "False")))
    result = await asyncio.wait_for(task, 1)
    assert result.message() == "failed early due to stalled resources: [Widget/ns/a status: 'Failed']"
    with pytest.raises(ValueError, match="failed to parse"):
        await h.watcher.wait([ref("a")], timeout=1, custom=[spec | {"current": "(("}])


async def test_stop_cancels_the_informers(h: Harness) -> None:
    await h.watcher.wait([ref("a")], timeout=0)
    informer = h.informers[WIDGETS]
    await h.watcher.stop()
    assert informer.cancelled and h.watcher.resources == []
