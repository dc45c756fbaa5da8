"""Switching a cluster from Flux to gotk and back, with Flux's own source- and helm-controller (built by hand
into $GOTK_FLUX_BIN; skipped without them): Flux installs HelmReleases of several shapes, gotk takes over with
nothing changed (no new Helm revision, no object recreated, no release stored in a new namespace, Flux's
history digests verified as its own), then upgrades one release in Flux's storage namespace, and Flux takes
it back without an upgrade, a reinstall or an uninstall."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gotk.api import meta
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import CONFIGMAPS, HELMRELEASES, HELMREPOSITORIES, SECRETS
from gotk.local.controlplane import ControlPlane
from gotk.local.processes import free_ports
from gotk.runtime import conditions
from gotk.testing import helm
from gotk.testing.chartrepo import ChartRepoServer
from gotk.testing.controllersproc import ControllersProcess
from gotk.testing.fluxcontrollers import ENV, FluxControllers, flux_bin
from gotk.testing.helmreleases import Env, helmrelease, wait_release

FLUX = flux_bin("source-controller", "helm-controller")
pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        FLUX is None,
        reason=f"Flux's source-controller and helm-controller are not built: set {ENV} to a directory holding "
        "them (README, 'Switching from Flux')",
    ),
]
Obj = dict[str, Any]


def _handled(token: str, version: int) -> Any:
    def check(obj: Obj) -> bool:
        status = obj.get("status") or {}
        history = status.get("history") or []
        return (
            status.get("lastHandledReconcileAt") == token
            and status.get("observedGeneration") == obj["metadata"]["generation"]
            and conditions.is_ready(obj)
            and bool(history)
            and history[0]["version"] == version
        )

    return check


async def _request(c: Client, ns: str, names: list[str], token: str) -> None:
    for name in names:
        await c.patch(HELMRELEASES, name, {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: token}}}, ns)


def _helm_history(cluster: ControlPlane, release: str, namespace: str) -> list[Obj]:
    out = helm.run("history", release, "-n", namespace, "--kubeconfig", str(cluster.kubeconfig), "-o", "json")
    return list(json.loads(out.stdout))


async def test_flux_to_gotk_and_back(
    cluster: ControlPlane, namespace: str, tmp_path: Path, charts: tuple[Path, ChartRepoServer]
) -> None:
    assert FLUX is not None
    repo, server = charts
    ns, target = namespace, f"{namespace}-t"
    cluster.ensure_namespace(target)
    (storage_port,) = free_ports(1)
    # (HelmRelease, release name, storage namespace, where its ConfigMap lands)
    shapes = [("a", f"{target}-a", ns, target), ("b", "custom-b", target, target), ("c", "c", ns, ns)]
    try:
        async with Client(config.load(cluster.kubeconfig)) as c:
            env = Env(c, ns, repo, server, Path(cluster.kubeconfig))
            await c.create(CONFIGMAPS, {"metadata": {"name": "extra"}, "data": {"values.yaml": "team: a\n"}}, ns)
            source = {"apiVersion": HELMREPOSITORIES.api_version, "kind": "HelmRepository",
                      "metadata": {"name": "charts"}, "spec": {"url": server.url, "interval": "1h"}}  # fmt: skip
            await c.create(HELMREPOSITORIES, source, ns)
            bodies = [
                helmrelease(
                    "a",
                    targetNamespace=target,
                    values={"greeting": "hi", "n": 3, "ratio": 0.5},
                    valuesFrom=[{"kind": "ConfigMap", "name": "extra"}],
                ),
                helmrelease("b", targetNamespace=target, storageNamespace=target, releaseName="custom-b"),
                helmrelease("c", values={"nested": {"list": [1, "two", {"x": None}]}}),
            ]
            names = [b["metadata"]["name"] for b in bodies]

            flux = FluxControllers(cluster, tmp_path / "flux", FLUX, storage_port=storage_port)
            with flux:
                for body in bodies:
                    await c.create(HELMRELEASES, body, ns)
                for name in names:
                    await wait_release(env, name, lambda o: conditions.is_ready(o), f"{name} released by Flux", 120)
            before = {n: await c.get(HELMRELEASES, n, ns) for n in names}
            uids = {}
            for name, release, storage, where in shapes:
                uids[name] = (await c.get(CONFIGMAPS, f"{release}-podinfo", where))["metadata"]["uid"]
                assert [r["revision"] for r in _helm_history(cluster, release, storage)] == [1]

            # gotk takes over: every request handled, nothing released again
            (tmp_path / "gotk").mkdir()
            with ControllersProcess(cluster, tmp_path / "gotk", "source,helm", storage_port=storage_port):
                await _request(c, ns, names, "takeover")
                after = {n: await wait_release(env, n, _handled("takeover", 1), f"{n} taken over", 90) for n in names}
                for name, release, storage, where in shapes:
                    assert [r["revision"] for r in _helm_history(cluster, release, storage)] == [1], name
                    cm = await c.get(CONFIGMAPS, f"{release}-podinfo", where)
                    assert cm["metadata"]["uid"] == uids[name], f"{name}: nothing recreated"
                    old, new = before[name]["status"]["history"][0], after[name]["status"]["history"][0]
                    assert (new["digest"], new["configDigest"]) == (old["digest"], old["configDigest"]), name
                    assert after[name]["status"]["lastAttemptedConfigDigest"] == old["configDigest"], name

                # a real change under gotk: revision 2, in Flux's storage namespace
                await c.patch(HELMRELEASES, "a", {"spec": {"values": {"greeting": "hello"}}}, ns)
                await wait_release(env, "a", lambda o: _handled("takeover", 2)(o), "a upgraded by gotk", 90)
            assert [r["revision"] for r in _helm_history(cluster, f"{target}-a", ns)] == [1, 2]
            stored = await c.list(SECRETS, target, label_selector=f"owner=helm,name={target}-a")
            assert stored["items"] == [], "no release stored in a new namespace"

            # and back to Flux: nothing released again, nothing recreated
            with flux:
                await _request(c, ns, names, "handback")
                for name, version in (("a", 2), ("b", 1), ("c", 1)):
                    await wait_release(env, name, _handled("handback", version), f"{name} handed back", 90)
            for name, release, storage, where in shapes:
                revisions = [r["revision"] for r in _helm_history(cluster, release, storage)]
                assert revisions == ([1, 2] if name == "a" else [1]), f"{name}: {revisions}"
                cm = await c.get(CONFIGMAPS, f"{release}-podinfo", where)
                assert cm["metadata"]["uid"] == uids[name], f"{name}: nothing recreated by Flux"
    finally:
        cluster.kubectl("delete", "namespace", target, "--wait=false", "--ignore-not-found", check=False)
