"""Bucket end to end on the real local control plane, against the real MinIO server.

The source controller runs in-process (its Manager, storage and artifact server on 127.0.0.1); the
test seeds MinIO through its S3 API and talks to the controller only through the API server and
the artifact URL. Covers: contents and ignore rules, the index revision, requestedAt with and
without an object change, prefix, TLS via certSecretRef, wrong credentials, a missing bucket, an
unsupported provider, and artifact removal on deletion.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gotk.api import meta
from gotk.kube.client import Client
from gotk.kube.resources import BUCKETS
from gotk.runtime import conditions
from gotk.runtime.manager import Manager
from gotk.source.bucket import index as objindex
from gotk.source.bucket import s3
from gotk.testing.artifacts import download
from gotk.testing.artifacts import tar_members as members
from gotk.testing.s3server import MinioServer
from gotk.testing.waiting import eventually

from .conftest import put_secret

pytestmark = pytest.mark.cluster

ACCESS, SECRET = "gotk-admin", "s3cr3t-k3y-for-tests"
OBJECTS: dict[str, bytes | str] = {
    "deploy/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  v: '1'\n",
    "deploy/notes.txt": "ignored by spec.ignore\n",
    "README.md": "# demo\n",
    "logo.png": b"\x89PNG kept: buckets have no default exclusions",
    "secret/key.yaml": "ignored by the bucket's .sourceignore\n",
    ".sourceignore": "secret/\n",
}


@pytest.fixture(scope="module")
def minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    with MinioServer(tmp_path_factory.mktemp("minio"), access_key=ACCESS, secret_key=SECRET) as server:
        yield server


def bucket(name: str, namespace: str, endpoint: str, bucket_name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "Bucket",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "provider": "generic",
            "bucketName": bucket_name,
            "endpoint": endpoint,
            "insecure": True,
            "interval": "10m",
            "timeout": "20s",
            "secretRef": {"name": "minio-auth"},
            **spec,
        },
    }


async def wait_revision(
    client: Client, name: str, namespace: str, revision: str, timeout: float = 30
) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def check() -> bool:
        obj = await client.get(BUCKETS, name, namespace)
        art = (obj.get("status") or {}).get("artifact") or {}
        if art.get("revision") == revision and conditions.is_ready(obj):
            found.update(obj)
            return True
        return False

    await eventually(check, timeout, f"revision {revision}")
    return found


async def wait_reason(client: Client, name: str, namespace: str, reason: str) -> dict[str, Any]:
    async def check() -> bool:
        o = await client.get(BUCKETS, name, namespace)
        return conditions.is_false(o, meta.READY) and conditions.get_reason(o, meta.READY) == reason

    await eventually(check, what=f"Ready=False with reason {reason}")
    return await client.get(BUCKETS, name, namespace)


async def request_reconcile(client: Client, name: str, namespace: str, token: str) -> None:
    patch = {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: token}}}
    await client.patch(BUCKETS, name, patch, namespace)

    async def handled() -> bool:
        o = await client.get(BUCKETS, name, namespace)
        return bool((o.get("status") or {}).get("lastHandledReconcileAt") == token)

    await eventually(handled, what=f"requestedAt {token} handled")


def expected_revision(etags: dict[str, str], keys: set[str]) -> str:
    return objindex.revision({k: v for k, v in etags.items() if k in keys})


async def test_bucket_end_to_end(
    client: Client, namespace: str, source: Manager, minio: MinioServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    downloads: list[int] = []
    real_download = s3.download

    def counting_download(*args: Any, **kwargs: Any) -> objindex.Index:
        downloads.append(1)
        return real_download(*args, **kwargs)

    monkeypatch.setattr(s3, "download", counting_download)
    minio.make_bucket(f"{namespace}-e2e")
    etags = minio.put_objects(f"{namespace}-e2e", OBJECTS)
    await put_secret(client, namespace, "minio-auth", {"accesskey": ACCESS, "secretkey": SECRET})
    await client.create(
        BUCKETS, bucket("podinfo", namespace, minio.endpoint, f"{namespace}-e2e", ignore="*.txt\n"), namespace
    )
    kept = {"deploy/app.yaml", "README.md", "logo.png"}
    revision = expected_revision(etags, kept)
    obj = await wait_revision(client, "podinfo", namespace, revision)
    ready = conditions.get(obj, meta.READY)
    assert ready is not None and ready["reason"] == meta.SUCCEEDED
    assert ready["message"] == f"stored artifact for revision '{revision}'"
    assert obj["status"]["observedGeneration"] == 1
    assert {c["type"] for c in obj["status"]["conditions"]} == {"Ready", "ArtifactInStorage"}
    assert obj["status"]["observedIgnore"] == "*.txt\n"
    artifact = obj["status"]["artifact"]
    assert artifact["path"] == f"bucket/{namespace}/podinfo/{revision.removeprefix('sha256:')}.tar.gz"
    data = await download(artifact["url"])
    assert "sha256:" + hashlib.sha256(data).hexdigest() == artifact["digest"]
    assert len(data) == artifact["size"]
    files = members(data)
    assert set(files) == kept, "spec.ignore and the bucket's .sourceignore apply; no default exclusions"
    assert files["deploy/app.yaml"] == str(OBJECTS["deploy/app.yaml"]).encode()
    assert len(downloads) == 1

    # no change: a requested reconcile lists the bucket but downloads nothing; same artifact
    await request_reconcile(client, "podinfo", namespace, "2026-11-27T12:00:00Z")
    obj = await client.get(BUCKETS, "podinfo", namespace)
    assert obj["status"]["artifact"] == artifact
    assert conditions.is_ready(obj)
    assert len(downloads) == 1

    # an object changes: the next requested reconcile produces a new revision and artifact
    new_app = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  v: '2'\n"
    etags.update(minio.put_objects(f"{namespace}-e2e", {"deploy/app.yaml": new_app}))
    revision2 = expected_revision(etags, kept)
    assert revision2 != revision
    await request_reconcile(client, "podinfo", namespace, "2026-11-27T12:01:00Z")
    obj = await wait_revision(client, "podinfo", namespace, revision2)
    assert members(await download(obj["status"]["artifact"]["url"]))["deploy/app.yaml"] == new_app.encode()
    assert {c["type"] for c in obj["status"]["conditions"]} == {"Ready", "ArtifactInStorage"}
    assert len(downloads) == 2

    # deleting the Bucket removes its artifacts
    storage_root = Path(source.controllers[0].reconciler.storage.root)  # type: ignore[attr-defined]
    current = storage_root / obj["status"]["artifact"]["path"]
    assert current.exists()
    await client.delete(BUCKETS, "podinfo", namespace)

    async def gone() -> bool:
        return await client.get_or_none(BUCKETS, "podinfo", namespace) is None

    await eventually(gone, what="deletion")
    assert not current.parent.exists()


async def test_bucket_prefix_and_tls(client: Client, namespace: str, source: Manager, tmp_path: Path) -> None:
    with MinioServer(tmp_path / "minio-tls", access_key=ACCESS, secret_key=SECRET, tls=True) as server:
        server.make_bucket("apps", {"apps/one.yaml": "a: 1\n", "apps/two/two.yaml": "b: 2\n", "infra/x.yaml": "c\n"})
        await put_secret(client, namespace, "minio-auth", {"accesskey": ACCESS, "secretkey": SECRET})
        await put_secret(client, namespace, "minio-ca", {"ca.crt": server.ca_pem})
        spec = {"insecure": False, "prefix": "apps/", "certSecretRef": {"name": "minio-ca"}}
        await client.create(BUCKETS, bucket("apps", namespace, server.endpoint, "apps", **spec), namespace)

        async def ready() -> bool:
            return conditions.is_ready(await client.get(BUCKETS, "apps", namespace))

        await eventually(ready, what="Ready over TLS")
        obj = await client.get(BUCKETS, "apps", namespace)
        files = members(await download(obj["status"]["artifact"]["url"]))
        assert set(files) == {"apps/one.yaml", "apps/two/two.yaml"}, "prefix filters server-side; keys stay whole"

        # without the CA the server's certificate is not trusted
        await client.patch(BUCKETS, "apps", {"spec": {"certSecretRef": None}}, namespace)
        obj = await wait_reason(client, "apps", namespace, "BucketOperationFailed")
        assert "certificate" in conditions.get_message(obj, meta.READY).lower()


async def test_bucket_failures(client: Client, namespace: str, source: Manager, minio: MinioServer) -> None:
    name = f"{namespace}-fail"
    minio.make_bucket(name)
    etags = minio.put_objects(name, {"app.yaml": "a: 1\n"})
    await put_secret(client, namespace, "minio-auth", {"accesskey": ACCESS, "secretkey": SECRET})
    await client.create(BUCKETS, bucket("app", namespace, minio.endpoint, name), namespace)
    obj = await wait_revision(client, "app", namespace, objindex.revision(etags))
    first_artifact = obj["status"]["artifact"]

    # wrong credentials: BucketOperationFailed (as Flux), the secret appears nowhere, the last artifact stays
    await put_secret(client, namespace, "minio-auth", {"accesskey": ACCESS, "secretkey": "wrong-secret-key-42"})
    await request_reconcile(client, "app", namespace, "2026-11-27T13:00:00Z")
    obj = await wait_reason(client, "app", namespace, "BucketOperationFailed")
    assert conditions.get_reason(obj, "FetchFailed") == "BucketOperationFailed"
    assert "wrong-secret-key-42" not in str(obj) and SECRET not in str(obj)
    assert obj["status"]["artifact"] == first_artifact
    assert await download(first_artifact["url"])

    # a Secret without the required keys is an authentication failure too
    await put_secret(client, namespace, "minio-auth", {"username": "x"})
    await request_reconcile(client, "app", namespace, "2026-11-27T13:01:00Z")
    obj = await wait_reason(client, "app", namespace, "AuthenticationFailed")
    assert "required fields 'accesskey' and 'secretkey'" in conditions.get_message(obj, meta.READY)

    # a missing bucket: Ready=False naming it
    await put_secret(client, namespace, "minio-auth", {"accesskey": ACCESS, "secretkey": SECRET})
    await client.patch(BUCKETS, "app", {"spec": {"bucketName": "no-such-bucket"}}, namespace)
    obj = await wait_reason(client, "app", namespace, "BucketOperationFailed")
    assert "no-such-bucket" in conditions.get_message(obj, meta.READY)
    assert conditions.get_reason(obj, "FetchFailed") == "BucketOperationFailed"
    assert conditions.get_message(obj, meta.READY) == "bucket 'no-such-bucket' not found"
    assert obj["status"]["artifact"] == first_artifact

    # an unsupported provider stalls with InvalidProviderConfiguration
    gcs = bucket("gcs", namespace, "storage.googleapis.com", "b", provider="gcp")
    del gcs["spec"]["secretRef"]
    await client.create(BUCKETS, gcs, namespace)
    obj = await wait_reason(client, "gcs", namespace, "InvalidProviderConfiguration")
    assert conditions.is_true(obj, meta.STALLED)
    assert conditions.get_message(obj, meta.READY) == "provider 'gcp' is not supported yet"
