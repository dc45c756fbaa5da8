"""`spec.kubeConfig` of a HelmRelease: the release installed on a second, independent control plane (its
kubeconfig in a Secret), its storage and objects there and nowhere in the first cluster, its inventory read
from there, and uninstalled from there when the HelmRelease goes; a `configMapRef` is refused (stalled)."""

from __future__ import annotations

import pytest

from gotk.api import meta
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import CONFIGMAPS, HELMRELEASES, SECRETS
from gotk.local.controlplane import ControlPlane
from gotk.runtime import conditions
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release
from gotk.testing.remote import embedded_kubeconfig
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster
REMOTE_NS = "remote-release"
RELEASE = f"{REMOTE_NS}-far"  # with a targetNamespace, Flux names the release <targetNamespace>-<name>


async def test_release_on_the_remote_cluster(env: Env, remote: ControlPlane) -> None:
    c, ns = env.client, env.namespace
    secret = {"metadata": {"name": "far"}, "stringData": {"value": embedded_kubeconfig(remote.kubeconfig)}}
    await c.create(SECRETS, secret, ns)
    spec = {
        "kubeConfig": {"secretRef": {"name": "far"}},
        "targetNamespace": REMOTE_NS,
        "storageNamespace": REMOTE_NS,  # the default, the HelmRelease's namespace, is not on the remote cluster
        "install": {"createNamespace": True},
    }
    await c.create(HELMRELEASES, helmrelease("far", **spec), ns)
    obj = await wait_release(env, "far", ready_at(1), "installed on the remote cluster")
    entries = obj["status"]["inventory"]["entries"]
    assert entries == [{"id": f"{REMOTE_NS}_{RELEASE}-podinfo__ConfigMap", "v": "v1"}]

    async with Client(config.load(remote.kubeconfig)) as far:
        assert (await far.get(CONFIGMAPS, f"{RELEASE}-podinfo", REMOTE_NS))["data"]["greeting"] == "hello"
        stored = await far.list(SECRETS, REMOTE_NS, label_selector=f"owner=helm,name={RELEASE}")
        assert len(stored["items"]) == 1, "Helm's storage is on the remote cluster"
        assert (await c.list(SECRETS, ns, label_selector=f"owner=helm,name={RELEASE}"))["items"] == []
        assert await c.get_or_none(CONFIGMAPS, f"{RELEASE}-podinfo", REMOTE_NS) is None

        await c.delete(HELMRELEASES, "far", ns)

        async def uninstalled() -> bool:
            return (
                await c.get_or_none(HELMRELEASES, "far", ns) is None
                and await far.get_or_none(CONFIGMAPS, f"{RELEASE}-podinfo", REMOTE_NS) is None
            )

        await eventually(uninstalled, timeout=60, what="the release uninstalled from the remote cluster")


async def test_a_config_map_ref_is_refused(env: Env) -> None:
    c, ns = env.client, env.namespace
    await c.create(HELMRELEASES, helmrelease("identity", kubeConfig={"configMapRef": {"name": "cloud"}}), ns)

    def stalled(obj: dict[str, object]) -> bool:
        return (conditions.get(obj, meta.STALLED) or {}).get("reason") == "RESTClientError"

    obj = await wait_release(env, "identity", stalled, "the configMapRef refused")
    message = (conditions.get(obj, meta.READY) or {}).get("message") or ""
    assert "spec.kubeConfig.configMapRef" in message and "secretRef" in message
