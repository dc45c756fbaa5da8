"""Drift detection of a HelmRelease on the real control plane: a `kubectl scale` of a released Deployment is
corrected with `driftDetection.mode: enabled` (a DriftCorrected event, Drifted back to False), only reported
with `warn` (Drifted=True, a DriftDetected Warning event, the scale left as it is), and an ignored path is
left alone."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from gotk.kube.resources import DEPLOYMENTS, EVENTS, HELMRELEASES, HELMREPOSITORIES
from gotk.local.controlplane import ControlPlane
from gotk.runtime import conditions
from gotk.testing import helm
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster

DEPLOYMENT = helm.DEPLOYMENT_TEMPLATE


async def publish(env: Env, src: Path) -> None:
    chart = helm.write_chart(src, "app", "1.0.0", templates={"deployment.yaml": DEPLOYMENT})
    helm.package(chart, env.repo)
    helm.repo_index(env.repo)
    annotation = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "drift"}}}
    await env.client.patch(HELMREPOSITORIES, "charts", annotation, env.namespace)


async def replicas(env: Env, name: str) -> int:
    return int((await env.client.get(DEPLOYMENTS, name, env.namespace))["spec"]["replicas"])


async def reasons(env: Env, name: str) -> list[str]:
    found = await env.client.list(EVENTS, env.namespace, field_selector=f"involvedObject.name={name}")
    return [str(e.get("reason")) for e in found["items"]]


async def reconcile(env: Env, name: str, token: str) -> None:
    annotation = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}}
    await env.client.patch(HELMRELEASES, name, annotation, env.namespace)


def handled(token: str) -> Any:
    return lambda obj: (obj.get("status") or {}).get("lastHandledReconcileAt") == token


async def test_drift_is_corrected_when_enabled_and_reported_with_warn(
    env: Env, cluster: ControlPlane, tmp_path: Path
) -> None:
    c, ns = env.client, env.namespace
    await publish(env, tmp_path)
    spec: dict[str, Any] = {"driftDetection": {"mode": "enabled"}}
    await c.create(HELMRELEASES, helmrelease("fixed", chart="app", version="1.x", **spec), ns)
    obj = await wait_release(env, "fixed", ready_at(1), "installed")
    assert (conditions.get(obj, "Drifted") or {}).get("reason") == "NoDriftDetected"

    cluster.kubectl("scale", "deployment", "fixed", "--replicas=3", "-n", ns)
    assert await replicas(env, "fixed") == 3
    await reconcile(env, "fixed", "one")
    await wait_release(env, "fixed", handled("one"), "the drift handled")

    async def corrected() -> bool:
        return await replicas(env, "fixed") == 1

    await eventually(corrected, timeout=30, what="the manual scale corrected")
    found = await reasons(env, "fixed")
    assert "DriftDetected" in found and "DriftCorrected" in found
    obj = await c.get(HELMRELEASES, "fixed", ns)
    assert conditions.is_ready(obj) and obj["status"]["history"][0]["version"] == 1, "no upgrade: corrected in place"
    assert (conditions.get(obj, "Drifted") or {}).get("status") == "False"

    # warn: reported, never corrected
    await c.create(HELMRELEASES, helmrelease("warned", chart="app", version="1.x", driftDetection={"mode": "warn"}), ns)
    await wait_release(env, "warned", ready_at(1), "installed")
    cluster.kubectl("scale", "deployment", "warned", "--replicas=2", "-n", ns)
    await reconcile(env, "warned", "two")
    obj = await wait_release(env, "warned", handled("two"), "the drift reported")
    drifted = conditions.get(obj, "Drifted") or {}
    assert (drifted.get("status"), drifted.get("reason")) == ("True", "DriftDetected")
    assert "Deployment/" + ns + "/warned changed (0 additions, 1 changes, 0 removals)" in drifted["message"]
    assert conditions.is_ready(obj)
    await asyncio.sleep(1)
    assert await replicas(env, "warned") == 2
    assert "DriftDetected" in await reasons(env, "warned")

    # an ignored path is not drift
    ignore = [{"paths": ["/spec/replicas"], "target": {"kind": "Deployment"}}]
    await c.patch(HELMRELEASES, "fixed", {"spec": {"driftDetection": {"mode": "enabled", "ignore": ignore}}}, ns)
    await wait_release(env, "fixed", lambda o: o["status"].get("observedGeneration") == 2, "the ignore rule observed")
    cluster.kubectl("scale", "deployment", "fixed", "--replicas=4", "-n", ns)
    await reconcile(env, "fixed", "three")
    obj = await wait_release(env, "fixed", handled("three"), "the ignored drift handled")
    assert (conditions.get(obj, "Drifted") or {}).get("status") == "False"
    assert await replicas(env, "fixed") == 4
