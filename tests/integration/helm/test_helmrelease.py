"""HelmRelease end to end on the real local control plane: the source and helm controllers in-process, a Helm
HTTP repository of charts packaged by the real `helm` CLI, and releases done by Helm's own Go code.

Covers: install from a `spec.chart` template (the HelmChart `<ns>-<name>` is created and followed), values
and valuesFrom, an upgrade on a values change and on a new chart version, a missing values source
(InitFailed), a failing install retried and remediated until its retries are exhausted (stalled), and
deletion (release uninstalled, its objects and the HelmChart gone), a release left pending-upgrade by a dead
process unlocked and upgraded. The real `helm` CLI lists the releases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gotk.api import meta
from gotk.kube.resources import CONFIGMAPS, HELMCHARTS, HELMRELEASES, HELMREPOSITORIES, SECRETS
from gotk.runtime import conditions
from gotk.testing import helm
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster
Obj = dict[str, Any]


async def test_install_upgrade_and_delete(env: Env, tmp_path: Path) -> None:
    c, ns = env.client, env.namespace
    values_cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "extra"},
        "data": {"values.yaml": "team: platform\n", "color": "blue"},
    }
    await c.create(CONFIGMAPS, values_cm, ns)
    value_from = [
        {"kind": "ConfigMap", "name": "extra"},
        {"kind": "ConfigMap", "name": "extra", "valuesKey": "color", "targetPath": "ui.color"},
    ]
    await c.create(HELMRELEASES, helmrelease("web", values={"greeting": "hi"}, valuesFrom=value_from), ns)
    obj = await wait_release(env, "web", ready_at(1), "web installed")
    ready = conditions.get(obj, meta.READY) or {}
    assert ready["reason"] == "InstallSucceeded"
    assert ready["message"] == f"Helm install succeeded for release {ns}/web.v1 with chart podinfo@6.0.0"
    assert obj["status"]["helmChart"] == f"{ns}/{ns}-web"
    assert obj["status"]["history"][0]["chartVersion"] == "6.0.0"
    cm = await c.get(CONFIGMAPS, "web-podinfo", ns)
    assert cm["data"]["greeting"] == "hi" and cm["data"]["team"] == "platform"
    assert '"color":"blue"' in cm["data"]["ui"]
    assert any(m["manager"] == "helm-controller" for m in cm["metadata"]["managedFields"])

    await c.patch(HELMRELEASES, "web", {"spec": {"values": {"greeting": "bye"}}}, ns)
    obj = await wait_release(env, "web", ready_at(2), "web upgraded with new values")
    assert (conditions.get(obj, meta.READY) or {})["reason"] == "UpgradeSucceeded"
    assert (await c.get(CONFIGMAPS, "web-podinfo", ns))["data"]["greeting"] == "bye"

    chart = helm.write_chart(tmp_path / "src2", "podinfo", "6.1.0", values={"greeting": "newer"})
    helm.package(chart, env.repo)
    helm.repo_index(env.repo)
    await c.patch(HELMRELEASES, "web", {"spec": {"chart": {"spec": {"version": "6.x"}}}}, ns)
    await c.patch(
        HELMREPOSITORIES, "charts", {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: "1"}}}, ns
    )
    obj = await wait_release(env, "web", ready_at(3), "web upgraded to 6.1.0")
    assert obj["status"]["history"][0]["chartVersion"] == "6.1.0"
    listed = helm.run("list", "-n", ns, "--kubeconfig", str(env.kubeconfig), "-o", "json").stdout
    assert '"name":"web"' in listed and '"revision":"3"' in listed

    await c.delete(HELMRELEASES, "web", ns)

    async def gone() -> bool:
        return (
            await c.get_or_none(HELMRELEASES, "web", ns) is None
            and await c.get_or_none(CONFIGMAPS, "web-podinfo", ns) is None
            and await c.get_or_none(HELMCHARTS, f"{ns}-web", ns) is None
        )

    await eventually(gone, timeout=60, what="release, its objects and its HelmChart deleted")
    secrets = (await c.list(SECRETS, ns, label_selector="owner=helm,name=web"))["items"]
    assert secrets == []


async def test_missing_values_and_failing_install(env: Env) -> None:
    c, ns = env.client, env.namespace
    missing = helmrelease("novalues", valuesFrom=[{"kind": "Secret", "name": "absent"}])
    await c.create(HELMRELEASES, missing, ns)

    def init_failed(obj: Obj) -> bool:
        return (conditions.get(obj, meta.READY) or {}).get("reason") == "InitFailed"

    obj = await wait_release(env, "novalues", init_failed, "novalues reports the missing Secret")
    assert "could not find Secret 'absent'" in (conditions.get(obj, meta.READY) or {})["message"]

    broken = helmrelease("broken", chart="broken", version="*", install={"remediation": {"retries": 1}})
    await c.create(HELMRELEASES, broken, ns)

    def stalled(obj: Obj) -> bool:
        return conditions.is_true(obj, meta.STALLED)

    obj = await wait_release(env, "broken", stalled, "broken install stalls after its retries", timeout=120)
    status = obj["status"]
    assert status["installFailures"] == 2
    assert "inventory" not in status, "the remediating uninstall cleared the inventory"
    assert (conditions.get(obj, meta.STALLED) or {})["reason"] == "RetriesExceeded"
    released = conditions.get(obj, "Released") or {}
    assert released["status"] == "False"


def _pending(secret: Obj, state: str) -> Obj:
    """The release Secret as a process killed in the middle of an action leaves it: status pending-*."""
    import base64
    import gzip
    import json

    raw = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))
    raw["info"]["status"] = state
    packed = base64.b64encode(gzip.compress(json.dumps(raw).encode())).decode()
    return {
        "metadata": {"labels": {"status": state}},
        "data": {"release": base64.b64encode(packed.encode()).decode()},
    }


async def test_a_release_left_pending_is_unlocked_and_upgraded(env: Env) -> None:
    c, ns = env.client, env.namespace
    await c.create(HELMRELEASES, helmrelease("locked", values={"greeting": "one"}), ns)
    await wait_release(env, "locked", ready_at(1), "locked installed")
    secret = (await c.list(SECRETS, ns, label_selector="owner=helm,name=locked"))["items"][0]
    await c.patch(SECRETS, secret["metadata"]["name"], _pending(secret, "pending-upgrade"), ns)

    await c.patch(HELMRELEASES, "locked", {"spec": {"values": {"greeting": "two"}}}, ns)
    obj = await wait_release(env, "locked", ready_at(2), "the pending release unlocked, then upgraded")
    assert (conditions.get(obj, meta.READY) or {})["reason"] == "UpgradeSucceeded"
    assert (await c.get(CONFIGMAPS, "locked-podinfo", ns))["data"]["greeting"] == "two"
    listed = helm.run("history", "locked", "-n", ns, "--kubeconfig", str(env.kubeconfig), "-o", "json").stdout
    assert "Release unlocked from stale 'pending-upgrade' state" in listed
