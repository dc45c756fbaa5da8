"""OCIRepository end to end on the real local control plane, against a real docker-registry.

Artifacts are pushed with the CLI (`flux push artifact` in a subprocess); the source controller runs
in-process (Manager, storage, artifact server on 127.0.0.1). Covers: tag refs and the artifact's
content and metadata, the no-download path on an unchanged digest, semver and semverFilter, basic
and token auth via a dockerconfigjson Secret (and a wrong password), a missing tag, layerSelector
copy, cosign key verification, TLS with certSecretRef, URL validation, and removal on deletion.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gotk.api import meta
from gotk.kube.client import Client
from gotk.kube.resources import OCIREPOSITORIES, SECRETS
from gotk.runtime import conditions
from gotk.runtime.manager import Manager
from gotk.runtime.oci.client import RegistryClient
from gotk.testing.artifacts import download, tar_members
from gotk.testing.registry import OciRegistry, cosign_sign
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster

USER, PASSWORD = "flux", "s3cr3t-registry-pa55"
FILES = {
    "deploy/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  v: '1'\n",
    "deploy/secret.txt": "do not ship\n",
    "README.md": "# demo\n",
}
SOURCE = "https://github.com/example/app.git"
_PUSHED = re.compile(r"artifact successfully pushed to (\S+)@(sha256:[0-9a-f]{64})")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[OciRegistry]:
    with OciRegistry(tmp_path / "registry") as reg:
        yield reg


@pytest.fixture(params=["htpasswd", "token"])
def auth_registry(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[OciRegistry]:
    """Basic auth, or the bearer-token flow with a token server checking the same credentials."""
    token = request.param == "token"
    with OciRegistry(tmp_path / "auth-registry", username=USER, password=PASSWORD, token_auth=token) as reg:
        yield reg


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[OciRegistry]:
    with OciRegistry(tmp_path / "tls-registry", tls=True) as reg:
        yield reg


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def flux(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "gotk.cli.main", *args], capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"flux {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def push(url: str, path: Path, *extra: str, revision: str = "main@sha1:0123abcd") -> str:
    """`flux push artifact`; returns the manifest digest it reports."""
    proc = flux("push", "artifact", url, f"--path={path}", f"--source={SOURCE}", f"--revision={revision}", *extra)
    assert f"► pushing artifact to {url.removeprefix('oci://')}" in proc.stderr
    match = _PUSHED.search(proc.stderr)
    assert match is not None, proc.stderr
    return match[2]


def ocirepository(name: str, namespace: str, url: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"url": url, "interval": "10m", "insecure": True, **spec},
    }


async def get(client: Client, name: str, namespace: str) -> dict[str, Any]:
    return await client.get(OCIREPOSITORIES, name, namespace)


async def wait_revision(
    client: Client, name: str, namespace: str, revision: str, timeout: float = 30
) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def check() -> bool:
        obj = await get(client, name, namespace)
        art = (obj.get("status") or {}).get("artifact") or {}
        if art.get("revision") == revision and conditions.is_ready(obj):
            found.update(obj)
            return True
        return False

    await eventually(check, timeout, f"revision {revision}")
    return found


async def wait_ready_false(client: Client, name: str, namespace: str, reason: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def check() -> bool:
        obj = await get(client, name, namespace)
        if conditions.is_false(obj, meta.READY) and conditions.get_reason(obj, meta.READY) == reason:
            found.update(obj)
            return True
        return False

    await eventually(check, what=f"Ready=False with reason {reason}")
    return found


async def request_reconcile(client: Client, name: str, namespace: str, token: str) -> None:
    patch = {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: token}}}
    await client.patch(OCIREPOSITORIES, name, patch, namespace)

    async def handled() -> bool:
        obj = await get(client, name, namespace)
        return bool((obj.get("status") or {}).get("lastHandledReconcileAt") == token)

    await eventually(handled, what=f"requestedAt {token} handled")


def members(data: bytes) -> dict[str, str]:
    return {path: content.decode() for path, content in tar_members(data).items()}


async def docker_secret(client: Client, namespace: str, host: str, password: str, name: str = "regcred") -> None:
    token = base64.b64encode(f"{USER}:{password}".encode()).decode()
    config_json = {"auths": {host: {"username": USER, "password": password, "auth": token}}}
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": name, "namespace": namespace},
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(config_json).encode()).decode()},
    }
    await client.create(SECRETS, body, namespace)


async def test_push_then_reconcile_tag(
    client: Client, namespace: str, source: Manager, registry: OciRegistry, tmp_path: Path
) -> None:
    tree = write_tree(tmp_path / "src", {**FILES, "logo.png": "not really"})
    digest = push(registry.url("manifests/app:v1.0.0"), tree, "--annotations=team=platform")
    spec = {"ref": {"tag": "v1.0.0"}, "ignore": "deploy/secret.txt\n"}
    await client.create(
        OCIREPOSITORIES, ocirepository("app", namespace, registry.url("manifests/app"), **spec), namespace
    )
    revision = f"v1.0.0@{digest}"
    obj = await wait_revision(client, "app", namespace, revision)

    ready = conditions.get(obj, meta.READY)
    assert ready is not None and ready["reason"] == meta.SUCCEEDED
    assert ready["message"] == f"stored artifact for digest '{revision}'"
    status = obj["status"]
    artifact = status["artifact"]
    assert artifact["path"] == f"ocirepository/{namespace}/app/{digest}.tar.gz"
    assert artifact["metadata"]["org.opencontainers.image.source"] == SOURCE
    assert artifact["metadata"]["org.opencontainers.image.revision"] == "main@sha1:0123abcd"
    assert artifact["metadata"]["team"] == "platform"
    assert "org.opencontainers.image.created" in artifact["metadata"]
    assert status["observedIgnore"] == "deploy/secret.txt\n"
    assert status["url"].endswith(f"/ocirepository/{namespace}/app/latest.tar.gz")

    data = await download(artifact["url"])
    assert "sha256:" + hashlib.sha256(data).hexdigest() == artifact["digest"]
    assert len(data) == artifact["size"]
    assert await download(status["url"]) == data
    assert members(data) == {k: v for k, v in FILES.items() if k != "deploy/secret.txt"}, "push and spec.ignore"

    # unchanged digest: a reconcile resolves the tag but downloads no blob, and keeps the artifact
    blob_gets = sum(1 for m, uri in registry.requests() if m == "GET" and "/blobs/" in uri)
    await request_reconcile(client, "app", namespace, "2026-11-27T12:00:00Z")
    assert sum(1 for m, uri in registry.requests() if m == "GET" and "/blobs/" in uri) == blob_gets
    assert (await get(client, "app", namespace))["status"]["artifact"] == artifact

    # a missing tag: Ready=False naming the tag; the previous artifact stays in status and is served
    await client.patch(OCIREPOSITORIES, "app", {"spec": {"ref": {"tag": "v9.9.9"}}}, namespace)
    obj = await wait_ready_false(client, "app", namespace, "OCIArtifactPullFailed")
    assert "v9.9.9" in conditions.get_message(obj, meta.READY)
    assert conditions.get_reason(obj, "FetchFailed") == "OCIArtifactPullFailed"
    assert obj["status"]["artifact"] == artifact
    assert await download(artifact["url"]) == data

    # layerSelector copy: the layer itself becomes the artifact; a settings change rebuilds it
    selector = {"mediaType": "application/vnd.cncf.flux.content.v1.tar+gzip", "operation": "copy"}
    await client.patch(
        OCIREPOSITORIES, "app", {"spec": {"ref": {"tag": "v1.0.0"}, "layerSelector": selector}}, namespace
    )

    async def copied() -> bool:
        o = await get(client, "app", namespace)
        return conditions.is_ready(o) and o["status"].get("observedLayerSelector") == selector

    await eventually(copied, what="copy layer artifact")
    obj = await get(client, "app", namespace)
    copied_data = await download(obj["status"]["artifact"]["url"])
    assert members(copied_data) == FILES, "copy keeps the layer as pushed: spec.ignore does not apply"

    # deleting the source removes its artifacts
    storage_root = Path(source.controllers[0].reconciler.storage.root)  # type: ignore[attr-defined]
    stored = storage_root / obj["status"]["artifact"]["path"]
    assert stored.exists()
    await client.delete(OCIREPOSITORIES, "app", namespace)

    async def gone() -> bool:
        return await client.get_or_none(OCIREPOSITORIES, "app", namespace) is None

    await eventually(gone, what="deletion")
    assert not stored.exists()
    assert not stored.parent.exists()


async def test_semver_selection(
    client: Client, namespace: str, source: Manager, registry: OciRegistry, tmp_path: Path
) -> None:
    digests = {}
    for tag in ("v1.0.0", "v1.2.0", "v1.10.0", "v2.0.0-rc.1", "not-semver"):
        tree = write_tree(tmp_path / tag, {"version.txt": tag})
        digests[tag] = push(registry.url(f"charts/app:{tag}"), tree, revision=f"{tag}@sha1:feed")
    spec = {"ref": {"semver": ">=1.0.0 <2.0.0"}}
    await client.create(OCIREPOSITORIES, ocirepository("sv", namespace, registry.url("charts/app"), **spec), namespace)
    obj = await wait_revision(client, "sv", namespace, f"v1.10.0@{digests['v1.10.0']}")
    assert members(await download(obj["status"]["artifact"]["url"])) == {"version.txt": "v1.10.0"}

    # semverFilter narrows the candidates before the range applies; digest beats semver
    ref = {"semver": ">=1.0.0-0", "semverFilter": ".*-rc.*"}
    await client.patch(OCIREPOSITORIES, "sv", {"spec": {"ref": ref}}, namespace)
    await wait_revision(client, "sv", namespace, f"v2.0.0-rc.1@{digests['v2.0.0-rc.1']}")
    await client.patch(OCIREPOSITORIES, "sv", {"spec": {"ref": {"digest": digests["v1.2.0"]}}}, namespace)
    await wait_revision(client, "sv", namespace, digests["v1.2.0"])

    # no match: Ready=False, the artifact stays
    await client.patch(OCIREPOSITORIES, "sv", {"spec": {"ref": {"digest": None, "semver": ">=5.0.0"}}}, namespace)
    obj = await wait_ready_false(client, "sv", namespace, "ReadOperationFailed")
    assert "no match found for semver: >=5.0.0" in conditions.get_message(obj, meta.READY)
    assert obj["status"]["artifact"]["revision"] == digests["v1.2.0"]

    listing = flux("list", "artifacts", registry.url("charts/app")).stdout
    assert listing.splitlines()[0].split() == ["ARTIFACT", "DIGEST", "SOURCE", "REVISION"]
    assert f"{registry.host}/charts/app:v1.10.0" in listing and digests["v1.10.0"] in listing


async def test_basic_auth_with_dockerconfigjson(
    client: Client, namespace: str, source: Manager, auth_registry: OciRegistry, tmp_path: Path
) -> None:
    tree = write_tree(tmp_path / "src", FILES)
    digest = push(auth_registry.url("private/app:v1"), tree, f"--creds={USER}:{PASSWORD}")
    assert (
        flux(
            "push",
            "artifact",
            auth_registry.url("private/app:v2"),
            f"--path={tree}",
            "--source=s",
            "--revision=r",
            check=False,
        ).returncode
        == 1
    )
    await docker_secret(client, namespace, auth_registry.host, PASSWORD)
    spec = {"ref": {"tag": "v1"}, "secretRef": {"name": "regcred"}}
    await client.create(
        OCIREPOSITORIES, ocirepository("priv", namespace, auth_registry.url("private/app"), **spec), namespace
    )
    await wait_revision(client, "priv", namespace, f"v1@{digest}")

    # wrong password: OCIArtifactPullFailed (as Flux), and the password appears nowhere in the object
    await client.delete(SECRETS, "regcred", namespace)
    await docker_secret(client, namespace, auth_registry.host, "wrong-password-123")
    await request_reconcile(client, "priv", namespace, "2026-11-27T12:30:00Z")
    obj = await wait_ready_false(client, "priv", namespace, "OCIArtifactPullFailed")
    assert conditions.get_reason(obj, "FetchFailed") == "OCIArtifactPullFailed"
    assert "wrong-password-123" not in json.dumps(obj)
    assert PASSWORD not in json.dumps(obj)
    assert obj["status"]["artifact"]["revision"] == f"v1@{digest}"

    # a missing Secret is an authentication failure too
    await client.patch(OCIREPOSITORIES, "priv", {"spec": {"secretRef": {"name": "absent"}}}, namespace)

    async def secret_missing() -> bool:
        o = await get(client, "priv", namespace)
        return "absent" in conditions.get_message(o, meta.READY)

    await eventually(secret_missing, what="missing secret reported")


async def test_cosign_verification_and_invalid_url(
    client: Client, namespace: str, source: Manager, registry: OciRegistry, tmp_path: Path
) -> None:
    tree = write_tree(tmp_path / "src", FILES)
    digest = push(registry.url("signed/app:v1"), tree)
    key = ec.generate_private_key(ec.SECP256R1())
    cosign_sign(RegistryClient(registry.host, insecure=True), "signed/app", digest, key)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    other_pem = other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for name, keys in (("cosign-keys", {"old.pub": other_pem, "new.pub": pem}), ("wrong-keys", {"a.pub": other_pem})):
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "data": {k: base64.b64encode(v).decode() for k, v in keys.items()},
        }
        await client.create(SECRETS, body, namespace)
    verify = {"provider": "cosign", "secretRef": {"name": "cosign-keys"}}
    spec = {"ref": {"tag": "v1"}, "verify": verify}
    await client.create(
        OCIREPOSITORIES, ocirepository("signed", namespace, registry.url("signed/app"), **spec), namespace
    )
    obj = await wait_revision(client, "signed", namespace, f"v1@{digest}")
    verified = conditions.get(obj, "SourceVerified")
    assert verified is not None and verified["status"] == "True"
    assert verified["message"] == f"verified signature of revision v1@{digest}"

    await client.patch(
        OCIREPOSITORIES, "signed", {"spec": {"verify": {"secretRef": {"name": "wrong-keys"}}}}, namespace
    )
    obj = await wait_ready_false(client, "signed", namespace, "VerificationError")
    assert conditions.is_false(obj, "SourceVerified")
    assert "no matching signatures were found" in conditions.get_message(obj, "SourceVerified")

    # keyless verification is not implemented: reported, not silently skipped
    await client.patch(OCIREPOSITORIES, "signed", {"spec": {"verify": {"secretRef": None}}}, namespace)

    async def keyless_reported() -> bool:
        o = await get(client, "signed", namespace)
        return "cosign keyless" in conditions.get_message(o, "SourceVerified") and conditions.is_stalled(o)

    await eventually(keyless_reported, what="keyless reported unsupported")

    # a tag in the URL stalls with URLInvalid
    bad = ocirepository("bad-url", namespace, registry.url("signed/app:v1"))
    await client.create(OCIREPOSITORIES, bad, namespace)
    obj = await wait_ready_false(client, "bad-url", namespace, "URLInvalid")
    assert conditions.is_stalled(obj)
    assert "URL must not contain a tag" in conditions.get_message(obj, meta.READY)


async def test_tls_registry_with_cert_secret_ref(
    client: Client, namespace: str, source: Manager, tls_registry: OciRegistry, tmp_path: Path
) -> None:
    tree = write_tree(tmp_path / "src", FILES)
    digest = push(tls_registry.url("tls/app:v1"), tree, "--insecure-registry")
    out = tmp_path / "pulled"
    out.mkdir()
    pulled = flux("pull", "artifact", tls_registry.url("tls/app:v1"), f"--output={out}", "--insecure-registry")
    assert f"✔ digest {tls_registry.host}/tls/app@{digest}" in pulled.stderr
    assert {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()} == FILES

    # without insecure the server certificate must verify: the CA comes from certSecretRef
    spec: dict[str, Any] = {"ref": {"tag": "v1"}, "insecure": False}
    await client.create(
        OCIREPOSITORIES, ocirepository("tls", namespace, tls_registry.url("tls/app"), **spec), namespace
    )
    obj = await wait_ready_false(client, "tls", namespace, "OCIArtifactPullFailed")
    assert "CERTIFICATE_VERIFY_FAILED" in conditions.get_message(obj, meta.READY)
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "registry-ca", "namespace": namespace},
        "data": {"ca.crt": base64.b64encode(tls_registry.ca_pem).decode()},
    }
    await client.create(SECRETS, body, namespace)
    await client.patch(OCIREPOSITORIES, "tls", {"spec": {"certSecretRef": {"name": "registry-ca"}}}, namespace)
    await wait_revision(client, "tls", namespace, f"v1@{digest}")
