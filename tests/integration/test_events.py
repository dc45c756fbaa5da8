"""The event recorder on the real local control plane: `emit` never waits for the API server, the Events
of one object are written in the order they were emitted, and `flush` waits until all are written."""

from __future__ import annotations

import pytest

from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import EVENTS
from gotk.local.controlplane import ControlPlane
from gotk.runtime.events import NORMAL, WARNING, EventRecorder

pytestmark = pytest.mark.cluster


async def test_events_are_queued_in_order_and_flushed(cluster: ControlPlane, namespace: str) -> None:
    async with Client(config.load(cluster.kubeconfig), qps=5, burst=1) as client:
        recorder = EventRecorder(client, "test-controller")
        obj = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "app", "namespace": namespace, "uid": "0000-1111"},
        }
        for i in range(6):
            # at 5 requests per second, six Events take over a second: emit must return at once
            await recorder.emit(obj, WARNING if i % 2 else NORMAL, f"Step{i}", f"message {i}")
        assert recorder.pending() == 6
        await recorder.flush(timeout=30)
        assert recorder.pending() == 0
        items = (await client.list(EVENTS, namespace))["items"]
    ours = [e for e in items if e["source"]["component"] == "test-controller"]
    ours.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
    assert [e["reason"] for e in ours] == [f"Step{i}" for i in range(6)]
    assert [e["type"] for e in ours] == [NORMAL, WARNING] * 3
    assert all(e["involvedObject"]["name"] == "app" and e["reportingComponent"] == "test-controller" for e in ours)
