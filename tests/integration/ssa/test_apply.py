"""`ResourceManager.apply_stage` on the real local control plane, request by request.

A new object costs two requests (its dry-run says it does not exist: 201 Created), an object applied before
and untouched since costs one GET, and an object of someone else's is dry-run, looked up and taken over. The
live object decides when the dry-run fails: `reconcile: disabled` skips it, anything else fails the stage
before any write, and IfNotPresent never dry-runs an existing object.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import Resource
from gotk.local.controlplane import ControlPlane
from gotk.ssa import plan
from gotk.ssa.apply import ApplyError, ApplyMemory, ResourceManager

pytestmark = pytest.mark.cluster

CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
Obj = dict[str, Any]


class CountingClient(Client):
    """A real client that also notes each request for a ConfigMap as (method, name, dry-run)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, str, bool]] = []

    async def request_status(
        self, method: str, path: str, *, params: Mapping[str, str | int | bool] | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        if "/configmaps/" in path:
            self.calls.append((method, path.rsplit("/", 1)[-1], bool(params and "dryRun" in params)))
        return await super().request_status(method, path, params=params, **kwargs)


@pytest.fixture
async def client(cluster: ControlPlane) -> AsyncIterator[CountingClient]:
    async with CountingClient(config.load(cluster.kubeconfig)) as c:
        yield c


def configmap(name: str, namespace: str, data: dict[str, str], annotations: dict[str, str] | None = None) -> Obj:
    meta: Obj = {"name": name, "namespace": namespace, "annotations": annotations or {}}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def actions(changes: plan.ChangeSet) -> dict[str, str]:
    return {subject.split("/")[-1]: action for _, subject, action in changes.entries}


async def test_new_objects_cost_a_dry_run_and_an_apply(client: CountingClient, namespace: str) -> None:
    manager = ResourceManager(client, field_manager="kustomize-controller", memory=ApplyMemory())
    objs = [configmap("one", namespace, {"a": "1"}), configmap("two", namespace, {"b": "2"})]
    changes = await manager.apply_stage(objs)
    assert actions(changes) == {"one": plan.CREATED, "two": plan.CREATED}
    assert sorted(client.calls) == sorted(
        [("PATCH", "one", True), ("PATCH", "one", False), ("PATCH", "two", True), ("PATCH", "two", False)]
    )

    client.calls.clear()
    changes = await manager.apply_stage(objs)
    assert actions(changes) == {"one": plan.UNCHANGED, "two": plan.UNCHANGED}
    assert sorted(client.calls) == [("GET", "one", False), ("GET", "two", False)]

    client.calls.clear()
    changes = await manager.apply_stage([configmap("one", namespace, {"a": "changed"}), objs[1]])
    assert actions(changes) == {"one": plan.CONFIGURED, "two": plan.UNCHANGED}
    live = await client.get(CONFIGMAPS, "one", namespace)
    assert live["data"] == {"a": "changed"}


async def test_someone_elses_object_is_looked_up_after_its_dry_run(client: CountingClient, namespace: str) -> None:
    await client.create(CONFIGMAPS, configmap("theirs", namespace, {"a": "1"}), namespace)
    manager = ResourceManager(client, field_manager="kustomize-controller", memory=ApplyMemory())
    client.calls.clear()
    changes = await manager.apply_stage([configmap("theirs", namespace, {"a": "2"})])
    assert actions(changes) == {"theirs": plan.CONFIGURED}
    assert client.calls[:2] == [("PATCH", "theirs", True), ("GET", "theirs", False)]
    live = await client.get(CONFIGMAPS, "theirs", namespace)
    assert live["data"] == {"a": "2"}
    assert any(m["manager"] == "kustomize-controller" for m in live["metadata"]["managedFields"])


async def test_a_failed_dry_run_is_decided_by_the_live_object(client: CountingClient, namespace: str) -> None:
    frozen = configmap("frozen", namespace, {"a": "1"}, {plan.RECONCILE_ANNOTATION: "disabled"})
    frozen["immutable"] = True
    await client.create(CONFIGMAPS, frozen, namespace)
    locked = configmap("locked", namespace, {"a": "1"})
    locked["immutable"] = True
    await client.create(CONFIGMAPS, locked, namespace)
    manager = ResourceManager(client, field_manager="kustomize-controller", memory=ApplyMemory())

    # an immutable ConfigMap refuses new data; reconcile: disabled on the live object skips it instead
    changes = await manager.apply_stage([configmap("frozen", namespace, {"a": "2"})])
    assert actions(changes) == {"frozen": plan.SKIPPED}

    # without that annotation the stage fails in its dry-run and writes nothing, not even the new object
    with pytest.raises(ApplyError) as failed:
        await manager.apply_stage([configmap("locked", namespace, {"a": "2"}), configmap("fresh", namespace, {})])
    assert failed.value.dry_run
    assert list(failed.value.errors) == [f"ConfigMap/{namespace}/locked"]
    assert await client.get_or_none(CONFIGMAPS, "fresh", namespace) is None


async def test_if_not_present_never_dry_runs_an_existing_object(client: CountingClient, namespace: str) -> None:
    await client.create(CONFIGMAPS, configmap("seeded", namespace, {"a": "1"}), namespace)
    manager = ResourceManager(client, field_manager="kustomize-controller", memory=ApplyMemory())
    client.calls.clear()
    desired = configmap("seeded", namespace, {"a": "2"}, {plan.SSA_ANNOTATION: "IfNotPresent"})
    changes = await manager.apply_stage([desired])
    assert actions(changes) == {"seeded": plan.SKIPPED}
    assert client.calls == [("GET", "seeded", False)]
    assert (await client.get(CONFIGMAPS, "seeded", namespace))["data"] == {"a": "1"}
