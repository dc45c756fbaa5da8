"""Deleting a Kustomization: what happens to the objects it applied, per `spec.deletionPolicy`.

Covers: MirrorPrune (the default) following `prune` (true → deleted, false → kept); Delete (deleted even
with prune false); Orphan (kept even with prune true); WaitForTermination (the Kustomization stays until a
finalizer on its object is released); a suspended Kustomization deletes nothing; an object whose owner
labels now name another Kustomization is never deleted.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gotk.kube.resources import CONFIGMAPS, KUSTOMIZATIONS

pytestmark = pytest.mark.cluster

CASES = {  # Kustomization name -> (spec fields, object survives deletion)
    "mirror-prune": ({"prune": True}, False),
    "mirror-keep": ({"prune": False}, True),
    "delete": ({"prune": False, "deletionPolicy": "Delete"}, False),
    "orphan": ({"prune": True, "deletionPolicy": "Orphan"}, True),
    "suspended": ({"prune": True}, True),
    "relabelled": ({"prune": True, "deletionPolicy": "Delete"}, True),
}
HELD = """apiVersion: v1
kind: ConfigMap
metadata:
  name: held
  finalizers: [gotk.io/hold]
data:
  k: v
"""


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


async def gone(harness: Any, name: str) -> bool:
    return await harness.client.get_or_none(KUSTOMIZATIONS, name, harness.namespace) is None


async def test_deletion_policies(harness: Any) -> None:
    ns = harness.namespace
    client = harness.client
    revision = harness.repo({f"{name}/cm.yaml": cm(f"{name}-cm") for name in CASES})
    await harness.start()
    await harness.source()
    for name, (spec, _) in CASES.items():
        await harness.create_ks(name, f"./{name}", **spec)
    for name in CASES:
        await harness.applied(name, revision)

    await harness.patch_ks("suspended", {"spec": {"suspend": True}})
    relabel = {"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/name": "someone-else"}}}
    await client.patch(CONFIGMAPS, "relabelled-cm", relabel, ns)
    await asyncio.sleep(1)  # the suspend reaches the controller's cache

    for name in CASES:
        await client.delete(KUSTOMIZATIONS, name, ns)
    for name in CASES:
        await harness.eventually(lambda name=name: gone(harness, name), 30, f"Kustomization {name} deleted")
    for name, (_, survives) in CASES.items():
        live = await client.get_or_none(CONFIGMAPS, f"{name}-cm", ns)
        if survives:
            assert live is not None and live["metadata"].get("deletionTimestamp") is None, f"{name}: kept"
        else:
            assert live is None, f"{name}: deleted"


async def test_wait_for_termination(harness: Any) -> None:
    ns = harness.namespace
    client = harness.client
    revision = harness.repo({"held.yaml": HELD})
    await harness.start()
    await harness.source()
    await harness.create_ks("waiting", deletionPolicy="WaitForTermination", timeout="30s")
    await harness.applied("waiting", revision)

    await client.delete(KUSTOMIZATIONS, "waiting", ns)

    async def terminating() -> bool:
        live = await client.get_or_none(CONFIGMAPS, "held", ns)
        return live is not None and bool(live["metadata"].get("deletionTimestamp"))

    await harness.eventually(terminating, 20, "the object is being deleted")
    await asyncio.sleep(2)
    assert not await gone(harness, "waiting"), "the Kustomization waits for its object to terminate"

    await client.patch(CONFIGMAPS, "held", {"metadata": {"finalizers": None}}, ns)
    await harness.eventually(lambda: gone(harness, "waiting"), 10, "the Kustomization deleted after its object")
    assert await client.get_or_none(CONFIGMAPS, "held", ns) is None
