"""HelmChart end to end on the real local control plane: charts pulled from a Helm HTTP repository (charts
packaged and indexed by the real `helm` CLI, served as static files, with basic auth) and charts packaged
from a GitRepository (served over smart HTTP). The real `helm` renders every artifact gotk produced.

Covers: version constraints and the pulled archive as is; following a new chart version in the repository
(through the HelmRepository's new index); values files (revision `+<generation>`, merged values); a version
that does not exist (stalled, InvalidChartReference); packaging from Git with `.helmignore` and a `file://`
dependency, the ChartVersion strategy (a new commit without a version bump keeps the artifact) and the
Revision strategy (`+<commit[:12]>`); a chart path that is not a chart; charts pushed by helm to an OCI registry
(HelmRepository `type: oci`, basic auth; refused without credentials) and their cosign signatures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gotk.api import meta
from gotk.kube.client import Client
from gotk.kube.resources import GITREPOSITORIES, HELMCHARTS, HELMREPOSITORIES, Resource
from gotk.local import gitrepos
from gotk.runtime import conditions
from gotk.runtime.manager import Manager
from gotk.runtime.oci.client import RegistryClient
from gotk.testing import helm
from gotk.testing.artifacts import download
from gotk.testing.chartrepo import ChartRepoServer
from gotk.testing.gitserver import GitHttpServer
from gotk.testing.registry import OciRegistry, cosign_sign
from gotk.testing.waiting import eventually

from .conftest import put_secret

pytestmark = pytest.mark.cluster

USER, PASSWORD = "charts", "chart-repo-pass"
Obj = dict[str, Any]


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    """podinfo 6.0.0 and 6.1.0 (with a values-prod.yaml beside values.yaml), indexed."""
    root, src = tmp_path / "charts", tmp_path / "chart-src"
    root.mkdir()
    chart = helm.write_chart(
        src, "podinfo", "6.0.0", values={"greeting": "hello", "replicas": 1},
        extra_files={"values-prod.yaml": "replicas: 3\n"},
    )  # fmt: skip
    helm.package(chart, root)
    helm.package(chart, root, version="6.1.0")
    helm.repo_index(root)
    return root


@pytest.fixture
def chart_server(repo_dir: Path) -> Iterator[ChartRepoServer]:
    with ChartRepoServer(repo_dir, username=USER, password=PASSWORD) as server:
        yield server


async def put(client: Client, res: Resource, body: Obj, namespace: str) -> None:
    await client.create(res, body, namespace)


async def auth_secret(client: Client, namespace: str) -> None:
    await put_secret(client, namespace, "repo-auth", {"username": USER, "password": PASSWORD})


def helmrepository(name: str, url: str) -> Obj:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": name},
        "spec": {"url": url, "interval": "1h", "secretRef": {"name": "repo-auth"}},
    }


def helmchart(name: str, chart: str, kind: str, source: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": name},
        "spec": {"chart": chart, "interval": "1h", "sourceRef": {"kind": kind, "name": source}, **spec},
    }


async def wait_chart(client: Client, name: str, namespace: str, revision: str | None = None) -> Obj:
    found: Obj = {}

    async def ready() -> bool:
        obj = await client.get(HELMCHARTS, name, namespace)
        found.clear()
        found.update(obj)
        status = obj.get("status") or {}
        rev = (status.get("artifact") or {}).get("revision")
        current = status.get("observedGeneration") == obj["metadata"]["generation"]
        return current and conditions.is_ready(obj) and revision in (None, rev)

    try:
        await eventually(ready, timeout=45, what=f"HelmChart {name} Ready at {revision}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; status: {found.get('status')}") from None
    return found


async def rendered(obj: Obj, tmp_path: Path) -> Obj:
    """The ConfigMap the real helm renders from the chart artifact."""
    tgz = tmp_path / "artifact.tgz"
    tgz.write_bytes(await download(obj["status"]["artifact"]["url"]))
    out = helm.run("template", "rel", str(tgz)).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    return next(d for d in docs if d["kind"] == "ConfigMap")


async def test_chart_from_helm_repository(
    client: Client, source: Manager, namespace: str, repo_dir: Path, chart_server: ChartRepoServer, tmp_path: Path
) -> None:
    await auth_secret(client, namespace)
    await put(client, HELMREPOSITORIES, helmrepository("charts", chart_server.url), namespace)
    await put(
        client, HELMCHARTS, helmchart("podinfo", "podinfo", "HelmRepository", "charts", version="6.0.x"), namespace
    )
    obj = await wait_chart(client, "podinfo", namespace, "6.0.0")
    artifact = obj["status"]["artifact"]
    assert artifact["path"] == f"helmchart/{namespace}/podinfo/podinfo-6.0.0.tgz"
    assert await download(artifact["url"]) == (repo_dir / "podinfo-6.0.0.tgz").read_bytes()
    ready = conditions.get(obj, meta.READY) or {}
    assert ready["message"] == "pulled 'podinfo' chart with version '6.0.0'"
    assert ready["reason"] == "ChartPullSucceeded"
    assert obj["status"]["url"].endswith(f"/helmchart/{namespace}/podinfo/latest.tar.gz")
    assert obj["status"]["observedChartName"] == "podinfo"
    assert (await rendered(obj, tmp_path))["data"]["greeting"] == "hello"

    # a new version in the repository reaches the chart through the HelmRepository's new index
    await client.patch(HELMCHARTS, "podinfo", {"spec": {"version": ">=6.0.0"}}, namespace)
    await wait_chart(client, "podinfo", namespace, "6.1.0")
    chart = helm.write_chart(tmp_path / "src2", "podinfo", "6.2.0", values={"greeting": "newer"})
    helm.package(chart, repo_dir)
    helm.repo_index(repo_dir)
    patch = {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: "new-version"}}}
    await client.patch(HELMREPOSITORIES, "charts", patch, namespace)
    obj = await wait_chart(client, "podinfo", namespace, "6.2.0")
    assert (await rendered(obj, tmp_path))["data"]["greeting"] == "newer"
    assert PASSWORD not in str(obj)


async def test_values_files_and_missing_version(
    client: Client, source: Manager, namespace: str, chart_server: ChartRepoServer, tmp_path: Path
) -> None:
    await auth_secret(client, namespace)
    await put(client, HELMREPOSITORIES, helmrepository("charts", chart_server.url), namespace)
    chart = helmchart(
        "prod", "podinfo", "HelmRepository", "charts", version="6.1.0", valuesFiles=["values.yaml", "values-prod.yaml"]
    )
    await put(client, HELMCHARTS, chart, namespace)
    obj = await wait_chart(client, "prod", namespace)
    generation = obj["metadata"]["generation"]
    assert obj["status"]["artifact"]["revision"] == f"6.1.0+{generation}"
    assert (conditions.get(obj, meta.READY) or {})["reason"] == "ChartPackageSucceeded"
    data = (await rendered(obj, tmp_path))["data"]
    assert data["replicas"] == "3" and data["greeting"] == "hello"

    await put(client, HELMCHARTS, helmchart("nine", "podinfo", "HelmRepository", "charts", version="9.*"), namespace)

    async def stalled() -> bool:
        got = await client.get(HELMCHARTS, "nine", namespace)
        return conditions.is_true(got, meta.STALLED)

    await eventually(stalled, what="HelmChart nine stalled")
    got = await client.get(HELMCHARTS, "nine", namespace)
    ready = conditions.get(got, meta.READY) or {}
    assert ready["reason"] == "InvalidChartReference"
    assert "no 'podinfo' chart with version matching '9.*' found" in ready["message"]


async def test_chart_from_git_repository(client: Client, source: Manager, namespace: str, tmp_path: Path) -> None:
    files: dict[str, gitrepos.FileContent] = {
        "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.2.3\ndependencies:\n"
        "  - name: lib\n    version: 0.x\n    repository: file://../lib\n",
        "charts/app/values.yaml": "greeting: from-git\n",
        "charts/app/templates/cm.yaml": helm.DEFAULT_TEMPLATE,
        "charts/app/templates/lib.yaml": '# {{ include "lib.name" . }}\n',
        "charts/app/.helmignore": "*.md\n",
        "charts/app/README.md": "not packaged\n",
        "charts/lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
        "charts/lib/templates/_helpers.tpl": '{{- define "lib.name" -}}lib{{- end -}}\n',
        "not-a-chart/README.md": "no Chart.yaml here\n",
    }
    root = tmp_path / "git"
    root.mkdir()
    repo = gitrepos.make_repo(root, "charts.git", files)
    with GitHttpServer(root) as git:
        body = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "charts"},
            "spec": {"url": git.url_for("charts.git"), "interval": "1h", "ref": {"branch": "main"}},
        }
        await put(client, GITREPOSITORIES, body, namespace)
        await put(client, HELMCHARTS, helmchart("app", "./charts/app", "GitRepository", "charts"), namespace)
        revision_chart = helmchart("app-rev", "charts/app", "GitRepository", "charts", reconcileStrategy="Revision")
        await put(client, HELMCHARTS, revision_chart, namespace)
        obj = await wait_chart(client, "app", namespace, "1.2.3")
        assert (conditions.get(obj, meta.READY) or {})["message"] == "packaged 'app' chart with version '1.2.3'"
        assert (await rendered(obj, tmp_path))["data"]["greeting"] == "from-git"
        sha = gitrepos.commit(repo, {"charts/app/values.yaml": "greeting: second\n"}, "change values")  # no bump
        rev = await wait_chart(client, "app-rev", namespace)
        assert rev["status"]["artifact"]["revision"].startswith("1.2.3+")

        patch = {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: "commit-2"}}}
        await client.patch(GITREPOSITORIES, "charts", patch, namespace)
        rev = await wait_chart(client, "app-rev", namespace, f"1.2.3+{sha[:12]}")
        assert (await rendered(rev, tmp_path))["data"]["greeting"] == "second"

        async def followed_source() -> bool:
            got = await client.get(HELMCHARTS, "app", namespace)
            return str((got.get("status") or {}).get("observedSourceArtifactRevision", "")).endswith(sha)

        await eventually(followed_source, what="ChartVersion chart observed the new commit")
        kept = await client.get(HELMCHARTS, "app", namespace)
        assert kept["status"]["artifact"]["revision"] == "1.2.3"  # no version bump: the artifact stays

        await put(client, HELMCHARTS, helmchart("bad", "./not-a-chart", "GitRepository", "charts"), namespace)

        async def bad_stalled() -> bool:
            return conditions.is_true(await client.get(HELMCHARTS, "bad", namespace), meta.STALLED)

        await eventually(bad_stalled, what="HelmChart bad stalled")
        bad = await client.get(HELMCHARTS, "bad", namespace)
        assert "no Chart.yaml in chart path" in (conditions.get(bad, meta.READY) or {})["message"]


async def test_chart_from_oci_helm_repository(
    client: Client, source: Manager, namespace: str, repo_dir: Path, tmp_path: Path
) -> None:
    with OciRegistry(tmp_path / "registry", username=USER, password=PASSWORD) as registry:
        for version in ("6.0.0", "6.1.0"):
            helm.push(repo_dir / f"podinfo-{version}.tgz", f"{registry.host}/charts", username=USER, password=PASSWORD)
        await auth_secret(client, namespace)
        repo = helmrepository("oci-charts", f"oci://{registry.host}/charts")
        repo["spec"].update(type="oci", insecure=True)
        await put(client, HELMREPOSITORIES, repo, namespace)
        chart = helmchart("podinfo", "podinfo", "HelmRepository", "oci-charts", version="6.0.x")
        await put(client, HELMCHARTS, chart, namespace)
        obj = await wait_chart(client, "podinfo", namespace, "6.0.0")
        assert await download(obj["status"]["artifact"]["url"]) == (repo_dir / "podinfo-6.0.0.tgz").read_bytes()
        assert (conditions.get(obj, meta.READY) or {})["message"] == "pulled 'podinfo' chart with version '6.0.0'"
        assert "observedSourceArtifactRevision" not in obj["status"]

        await client.patch(HELMCHARTS, "podinfo", {"spec": {"version": "*"}}, namespace)
        obj = await wait_chart(client, "podinfo", namespace, "6.1.0")
        assert (await rendered(obj, tmp_path))["data"]["greeting"] == "hello"
        assert PASSWORD not in str(obj)

        # without credentials the registry refuses: the chart reports it and keeps its artifact
        anon = helmrepository("anon", f"oci://{registry.host}/charts")
        anon["spec"].update(type="oci", insecure=True)
        del anon["spec"]["secretRef"]
        await put(client, HELMREPOSITORIES, anon, namespace)
        await put(client, HELMCHARTS, helmchart("anon", "podinfo", "HelmRepository", "anon"), namespace)

        async def refused() -> bool:
            got = await client.get(HELMCHARTS, "anon", namespace)
            ready = conditions.get(got, meta.READY) or {}
            return ready.get("status") == "False" and ready.get("reason") == "ChartPullError"

        await eventually(refused, what="HelmChart anon fails to pull")


async def test_oci_chart_signature_verification(
    client: Client, source: Manager, namespace: str, repo_dir: Path, tmp_path: Path
) -> None:
    with OciRegistry(tmp_path / "registry") as registry:
        digest = helm.push(repo_dir / "podinfo-6.1.0.tgz", f"{registry.host}/signed")
        key = ec.generate_private_key(ec.SECP256R1())
        cosign_sign(RegistryClient(registry.host, insecure=True), "signed/podinfo", digest, key)
        pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        other = ec.generate_private_key(ec.SECP256R1()).public_key()
        other_pem = other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        await put_secret(client, namespace, "keys", {"cosign.pub": pem})
        await put_secret(client, namespace, "other-keys", {"cosign.pub": other_pem})
        repo = helmrepository("signed", f"oci://{registry.host}/signed")
        repo["spec"].update(type="oci", insecure=True)
        del repo["spec"]["secretRef"]
        await put(client, HELMREPOSITORIES, repo, namespace)
        for name, keys in (("good", "keys"), ("bad", "other-keys")):
            verify = {"provider": "cosign", "secretRef": {"name": keys}}
            await put(
                client, HELMCHARTS, helmchart(name, "podinfo", "HelmRepository", "signed", verify=verify), namespace
            )
        obj = await wait_chart(client, "good", namespace, "6.1.0")
        verified = conditions.get(obj, "SourceVerified") or {}
        assert verified.get("status") == "True" and verified.get("message") == "verified signature of revision 6.1.0"

        async def rejected() -> bool:
            got = await client.get(HELMCHARTS, "bad", namespace)
            return (conditions.get(got, "SourceVerified") or {}).get("status") == "False"

        await eventually(rejected, what="HelmChart bad fails verification")
        bad = await client.get(HELMCHARTS, "bad", namespace)
        assert "no matching signatures" in (conditions.get(bad, meta.READY) or {})["message"]
        assert not (bad.get("status") or {}).get("artifact")
