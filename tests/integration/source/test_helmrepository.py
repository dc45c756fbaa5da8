"""HelmRepository end to end on the real local control plane, against a Helm HTTP/S repository of charts
packaged and indexed by the real `helm` CLI and served as static files on 127.0.0.1.

Covers: the index artifact (as fetched, revision = its sha256, the stable `index.yaml` link in status.url),
a new chart version giving a new revision, basic auth (missing, wrong and incomplete credentials), TLS via
certSecretRef, an oci:// URL without `type: oci` (stalled), a missing index, the `oci` type left alone (no
finalizer, no status), and artifact removal on deletion.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gotk.api import meta
from gotk.api import source_conditions as sc
from gotk.kube.client import Client
from gotk.kube.resources import HELMREPOSITORIES
from gotk.runtime import conditions
from gotk.runtime.manager import Manager
from gotk.source.helm import index as helmindex
from gotk.testing import helm
from gotk.testing.artifacts import download
from gotk.testing.chartrepo import ChartRepoServer
from gotk.testing.waiting import eventually

from .conftest import put_secret

pytestmark = pytest.mark.cluster

USER, PASSWORD = "charts", "s3cr3t-chart-pass"


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository directory with podinfo 6.0.0 and 6.1.0 (indexed with relative URLs)."""
    root = tmp_path_factory.mktemp("charts")
    src = tmp_path_factory.mktemp("chart-src")
    chart = helm.write_chart(src, "podinfo", "6.0.0", values={"greeting": "hello"})
    helm.package(chart, root)
    helm.package(chart, root, version="6.1.0")
    helm.repo_index(root)
    return root


def helmrepository(name: str, namespace: str, url: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"url": url, "interval": "10m", "timeout": "20s", **spec},
    }


async def wait_ready(client: Client, name: str, namespace: str, revision: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def ready() -> bool:
        obj = await client.get(HELMREPOSITORIES, name, namespace)
        found.update(obj)
        current = (obj.get("status") or {}).get("observedGeneration") == obj["metadata"]["generation"]
        rev = ((obj.get("status") or {}).get("artifact") or {}).get("revision")
        return current and conditions.is_ready(obj) and revision in (None, rev)

    await eventually(ready, timeout=45, what=f"HelmRepository {name} Ready")
    return found


async def wait_failed(client: Client, name: str, namespace: str, reason: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def failed() -> bool:
        obj = await client.get(HELMREPOSITORIES, name, namespace)
        found.update(obj)
        ready = conditions.get(obj, meta.READY) or {}
        return ready.get("status") == "False" and ready.get("reason") == reason

    await eventually(failed, timeout=45, what=f"HelmRepository {name} Ready=False {reason}")
    return found


@pytest.fixture
def server(charts: Path) -> Iterator[ChartRepoServer]:
    with ChartRepoServer(charts) as s:
        yield s


async def test_index_artifact_and_new_version(
    client: Client, source: Manager, namespace: str, charts: Path, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for f in charts.iterdir():
        (repo / f.name).write_bytes(f.read_bytes())
    with ChartRepoServer(repo) as server:
        await client.create(HELMREPOSITORIES, helmrepository("podinfo", namespace, server.url), namespace)
        obj = await wait_ready(client, "podinfo", namespace)
        fetched = (repo / "index.yaml").read_bytes()
        revision = f"sha256:{hashlib.sha256(fetched).hexdigest()}"
        artifact = obj["status"]["artifact"]
        assert artifact["revision"] == revision and artifact["digest"] == revision
        assert artifact["path"] == f"helmrepository/{namespace}/podinfo/index-{revision[7:]}.yaml"
        assert await download(artifact["url"]) == fetched
        assert obj["status"]["url"].endswith(f"/helmrepository/{namespace}/podinfo/index.yaml")
        assert await download(obj["status"]["url"]) == fetched
        assert conditions.get(obj, meta.READY)["message"] == f"stored artifact for revision '{revision}'"
        versions = [e["version"] for e in helmindex.sorted_versions(helmindex.load(fetched), "podinfo")]
        assert versions == ["6.1.0", "6.0.0"]

        chart = helm.write_chart(tmp_path / "src", "podinfo", "6.2.0")
        helm.package(chart, repo)
        helm.repo_index(repo)
        updated = (repo / "index.yaml").read_bytes()
        new_revision = f"sha256:{hashlib.sha256(updated).hexdigest()}"
        patch = {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: "now"}}}
        await client.patch(HELMREPOSITORIES, "podinfo", patch, namespace)
        obj = await wait_ready(client, "podinfo", namespace, new_revision)
        assert await download(obj["status"]["url"]) == updated

        await client.delete(HELMREPOSITORIES, "podinfo", namespace)

        async def gone() -> bool:
            return await client.get_or_none(HELMREPOSITORIES, "podinfo", namespace) is None

        await eventually(gone, what="HelmRepository deleted")
        storage = Path(source.controllers[0].reconciler.storage.root)  # type: ignore[attr-defined]
        assert not (storage / "helmrepository" / namespace / "podinfo").exists()


async def test_basic_auth(client: Client, source: Manager, namespace: str, charts: Path) -> None:
    with ChartRepoServer(charts, username=USER, password=PASSWORD) as server:
        await client.create(HELMREPOSITORIES, helmrepository("anon", namespace, server.url), namespace)
        obj = await wait_failed(client, "anon", namespace, sc.INDEXATION_FAILED)
        assert "401" in conditions.get(obj, meta.READY)["message"]

        await put_secret(client, namespace, "wrong", {"username": USER, "password": "nope"})
        repo = helmrepository("wrong", namespace, server.url, secretRef={"name": "wrong"})
        await client.create(HELMREPOSITORIES, repo, namespace)
        obj = await wait_failed(client, "wrong", namespace, sc.INDEXATION_FAILED)
        assert "nope" not in str(obj)

        await put_secret(client, namespace, "half", {"username": USER})
        repo = helmrepository("half", namespace, server.url, secretRef={"name": "half"})
        await client.create(HELMREPOSITORIES, repo, namespace)
        obj = await wait_failed(client, "half", namespace, sc.AUTHENTICATION_FAILED)
        assert "required fields 'username' and 'password'" in conditions.get(obj, meta.READY)["message"]

        await put_secret(client, namespace, "good", {"username": USER, "password": PASSWORD})
        repo = helmrepository("good", namespace, server.url, secretRef={"name": "good"})
        await client.create(HELMREPOSITORIES, repo, namespace)
        obj = await wait_ready(client, "good", namespace)
        assert PASSWORD not in str(obj)


async def test_tls_with_cert_secret(client: Client, source: Manager, namespace: str, charts: Path) -> None:
    with ChartRepoServer(charts, tls=True) as server:
        await client.create(HELMREPOSITORIES, helmrepository("untrusted", namespace, server.url), namespace)
        obj = await wait_failed(client, "untrusted", namespace, sc.INDEXATION_FAILED)
        assert "certificate" in conditions.get(obj, meta.READY)["message"].lower()

        await put_secret(client, namespace, "ca", {"ca.crt": server.ca_pem})
        repo = helmrepository("trusted", namespace, server.url, certSecretRef={"name": "ca"})
        await client.create(HELMREPOSITORIES, repo, namespace)
        await wait_ready(client, "trusted", namespace)


async def test_invalid_url_and_missing_index(
    client: Client, source: Manager, namespace: str, server: ChartRepoServer
) -> None:
    # the CRD admits http, https and oci URLs; an oci:// URL needs `type: oci`
    await client.create(HELMREPOSITORIES, helmrepository("oci-url", namespace, "oci://127.0.0.1/charts"), namespace)
    obj = await wait_failed(client, "oci-url", namespace, sc.URL_INVALID)
    assert conditions.is_true(obj, meta.STALLED)
    assert 'scheme "oci" not supported' in conditions.get(obj, meta.READY)["message"]

    missing = helmrepository("missing", namespace, f"{server.url}/nothing-here")
    await client.create(HELMREPOSITORIES, missing, namespace)
    obj = await wait_failed(client, "missing", namespace, sc.INDEXATION_FAILED)
    assert "404" in conditions.get(obj, meta.READY)["message"]
    assert conditions.is_true(obj, sc.FETCH_FAILED)


async def test_oci_type_is_left_alone(client: Client, source: Manager, namespace: str) -> None:
    repo = helmrepository("oci", namespace, "oci://127.0.0.1:5000/charts", type="oci")
    await client.create(HELMREPOSITORIES, repo, namespace)
    # a default repository created afterwards is reconciled, so the controller has seen the oci one by then
    await client.create(HELMREPOSITORIES, helmrepository("later", namespace, "oci://127.0.0.1/x"), namespace)
    await wait_failed(client, "later", namespace, sc.URL_INVALID)
    obj = await client.get(HELMREPOSITORIES, "oci", namespace)
    assert not obj["metadata"].get("finalizers")
    assert (obj.get("status") or {}) in ({}, {"observedGeneration": -1})  # the CRD's default, nothing else


async def test_switching_to_oci_lets_go(
    client: Client, source: Manager, namespace: str, server: ChartRepoServer
) -> None:
    await client.create(HELMREPOSITORIES, helmrepository("switch", namespace, server.url), namespace)
    await wait_ready(client, "switch", namespace)
    patch = {"spec": {"type": "oci", "url": "oci://127.0.0.1:5000/charts"}}
    await client.patch(HELMREPOSITORIES, "switch", patch, namespace)

    async def released() -> bool:
        obj = await client.get(HELMREPOSITORIES, "switch", namespace)
        leftover = {k for k in obj.get("status") or {} if k != "observedGeneration"}
        return not obj["metadata"].get("finalizers") and not leftover

    await eventually(released, what="finalizer, artifact and status gone after the switch to oci")
    storage = Path(source.controllers[0].reconciler.storage.root)  # type: ignore[attr-defined]
    assert not (storage / "helmrepository" / namespace / "switch").exists()
