"""`spec.kubeConfig`: a Kustomization in the session cluster applying to a second, independent cluster.

A second local control plane (the session's `remote` fixture: its own etcd, kube-apiserver, kcm, scheduler and
kwok) runs in a tmp dir;
its kubeconfig goes into a Secret (`value` key) with the CA embedded as certificate-authority-data, since
a file path on the test machine means nothing to a controller. The source and kustomize controllers run
in-process against the session cluster. Checked: the objects land in the second cluster only, the
Kustomization gets Ready with its inventory, and deleting it (prune) removes them from the second cluster.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import CONFIGMAPS, KUSTOMIZATIONS, NAMESPACES, SECRETS
from gotk.local.controlplane import ControlPlane
from gotk.testing.remote import embedded_kubeconfig

pytestmark = pytest.mark.cluster

REMOTE_NS = "remote-app"
FILES = {
    "namespace.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {REMOTE_NS}\n",
    "settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  where: remote\n",
}


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def test_kustomization_applies_to_the_remote_cluster(harness: Any, remote: ControlPlane) -> None:
    ns = harness.namespace
    kubeconfig = embedded_kubeconfig(remote.kubeconfig)
    assert "certificate-authority-data" in kubeconfig and str(remote.state_dir) not in kubeconfig
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "remote-kubeconfig"},
              "stringData": {"value": kubeconfig}}  # fmt: skip
    await harness.client.create(SECRETS, secret, ns)
    revision = harness.repo(FILES)
    await harness.start()
    await harness.source()

    async with Client(config.load(remote.kubeconfig)) as far:
        await harness.create_ks(
            "remote", targetNamespace=REMOTE_NS, kubeConfig={"secretRef": {"name": "remote-kubeconfig"}}
        )
        ks = await harness.applied("remote", revision)
        ids = {e["id"] for e in ks["status"]["inventory"]["entries"]}
        assert ids == {f"_{REMOTE_NS}__Namespace", f"{REMOTE_NS}_settings__ConfigMap"}

        applied = await far.get(CONFIGMAPS, "settings", REMOTE_NS)
        assert applied["data"] == {"where": "remote"}
        assert applied["metadata"]["labels"] == {
            "kustomize.toolkit.fluxcd.io/name": "remote",
            "kustomize.toolkit.fluxcd.io/namespace": ns,
        }
        assert await harness.client.get_or_none(NAMESPACES, REMOTE_NS) is None, "nothing lands in the first cluster"
        assert await harness.client.get_or_none(CONFIGMAPS, "settings", ns) is None

        # deletion with prune removes the objects from the remote cluster
        await harness.client.delete(KUSTOMIZATIONS, "remote", ns)

        async def gone() -> bool:
            if await harness.client.get_or_none(KUSTOMIZATIONS, "remote", ns) is not None:
                return False
            if await far.get_or_none(CONFIGMAPS, "settings", REMOTE_NS) is not None:
                return False
            namespace = await far.get_or_none(NAMESPACES, REMOTE_NS)
            return namespace is None or namespace["metadata"].get("deletionTimestamp") is not None

        await eventually(gone, 60, "the remote namespace to be pruned")
