"""`spec.chartRef` on the real control plane: a chart pushed by the real `helm push` to a real docker-registry,
released from an OCIRepository with `+<digest[0:12]>` in its version and the digest in the history; and a
HelmRelease switched from `spec.chart` to a chartRef of an ExternalArtifact (its artifact served over HTTP, as
a third-party producer would) upgrades from it and deletes the HelmChart it had made."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gotk.kube.resources import EXTERNALARTIFACTS, HELMCHARTS, HELMRELEASES, OCIREPOSITORIES
from gotk.testing import helm
from gotk.testing.chartrepo import ChartRepoServer
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release
from gotk.testing.registry import OciRegistry
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster
HELM_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


def _chart_ref(kind: str, name: str) -> dict[str, object]:
    return {"chart": None, "chartRef": {"kind": kind, "name": name}}


async def test_chart_ref_to_an_oci_repository(env: Env, tmp_path: Path) -> None:
    c, ns = env.client, env.namespace
    tgz = helm.package(helm.write_chart(tmp_path / "src", "podinfo", "6.2.0"), tmp_path / "out")
    with OciRegistry(tmp_path / "registry") as registry:
        digest = helm.push(tgz, registry.url("charts"))
        body = {
            "apiVersion": OCIREPOSITORIES.api_version,
            "kind": "OCIRepository",
            "metadata": {"name": "podinfo-oci"},
            "spec": {
                "url": registry.url("charts/podinfo"),
                "ref": {"tag": "6.2.0"},
                "insecure": True,
                "interval": "1h",
                "layerSelector": {"mediaType": HELM_LAYER, "operation": "copy"},
            },
        }
        await c.create(OCIREPOSITORIES, body, ns)
        hr = helmrelease("oci")
        del hr["spec"]["chart"]
        hr["spec"]["chartRef"] = {"kind": "OCIRepository", "name": "podinfo-oci"}
        await c.create(HELMRELEASES, hr, ns)
        obj = await wait_release(env, "oci", ready_at(1), "released from the OCIRepository")
    snapshot = obj["status"]["history"][0]
    hex_digest = digest.removeprefix("sha256:")
    assert snapshot["chartVersion"] == f"6.2.0+{hex_digest[:12]}"
    assert snapshot["ociDigest"] == digest and obj["status"]["lastAttemptedRevisionDigest"] == digest


async def test_switch_from_chart_to_an_external_artifact(env: Env, tmp_path: Path) -> None:
    c, ns = env.client, env.namespace
    await c.create(HELMRELEASES, helmrelease("moving"), ns)
    await wait_release(env, "moving", ready_at(1), "released from its HelmChart")
    assert await c.get_or_none(HELMCHARTS, f"{ns}-moving", ns) is not None

    served = tmp_path / "served"
    tgz = helm.package(helm.write_chart(tmp_path / "src", "podinfo", "6.3.0", values={"greeting": "ext"}), served)
    with ChartRepoServer(served) as server:
        await c.create(
            EXTERNALARTIFACTS,
            {"apiVersion": EXTERNALARTIFACTS.api_version, "kind": "ExternalArtifact", "metadata": {"name": "ext"}},
            ns,
        )
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        artifact = {
            "url": f"{server.url}/{tgz.name}",
            "path": f"externalartifact/{ns}/ext/{tgz.name}",
            "revision": "6.3.0",
            "digest": "sha256:" + hashlib.sha256(tgz.read_bytes()).hexdigest(),
            "lastUpdateTime": now,
            "size": tgz.stat().st_size,
        }
        ready = {"type": "Ready", "status": "True", "reason": "Succeeded", "message": "ok", "lastTransitionTime": now}
        await c.patch(EXTERNALARTIFACTS, "ext", {"status": {"artifact": artifact, "conditions": [ready]}}, ns,
                      subresource="status")  # fmt: skip
        await c.patch(HELMRELEASES, "moving", {"spec": _chart_ref("ExternalArtifact", "ext")}, ns)
        obj = await wait_release(env, "moving", ready_at(2), "upgraded from the ExternalArtifact")
    assert obj["status"]["history"][0]["chartVersion"] == "6.3.0"

    async def chart_gone() -> bool:
        return await c.get_or_none(HELMCHARTS, f"{ns}-moving", ns) is None

    await eventually(chart_gone, timeout=30, what="the HelmChart made for spec.chart deleted")
