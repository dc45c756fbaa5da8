"""GitRepository end to end on the real local control plane, against a real git smart-HTTP server.

The source controller runs in-process (its Manager, storage and artifact server on 127.0.0.1); the test
talks to it only through the API server and the artifact URL, as a consumer would.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from gotk.api import meta
from gotk.kube.client import Client
from gotk.kube.resources import GITREPOSITORIES, SECRETS
from gotk.local import gitrepos
from gotk.runtime import conditions
from gotk.runtime.manager import Manager
from gotk.testing.artifacts import download
from gotk.testing.artifacts import tar_members as members
from gotk.testing.gitserver import GitHttpServer
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster

USER, PASSWORD = "flux", "s3cr3t-pa55word"
FILES = {
    "deploy/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  v: '1'\n",
    "README.md": "# demo\n",
    "logo.png": b"\x89PNG not really",
    "secret.txt": "do not ship\n",
    ".github/workflows/ci.yaml": "on: push\n",
}


@pytest.fixture
def git_server(tmp_path: Path) -> Any:
    root = tmp_path / "git"
    root.mkdir()
    with GitHttpServer(root, username=USER, password=PASSWORD) as server:
        yield server


async def create_secret(client: Client, namespace: str, password: str = PASSWORD) -> None:
    data = {"username": USER, "password": password}
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "git-auth", "namespace": namespace},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }
    await client.create(SECRETS, body, namespace)


def gitrepository(name: str, namespace: str, url: str, *, interval: str = "10m", ref: Any = None) -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "url": url,
            "interval": interval,
            "ref": ref or {"branch": "main"},
            "secretRef": {"name": "git-auth"},
        },
    }


async def wait_revision(
    client: Client, name: str, namespace: str, revision: str, timeout: float = 30
) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def check() -> bool:
        obj = await client.get(GITREPOSITORIES, name, namespace)
        art = (obj.get("status") or {}).get("artifact") or {}
        if art.get("revision") == revision and conditions.is_ready(obj):
            found.update(obj)
            return True
        return False

    await eventually(check, timeout, f"revision {revision}")
    return found


async def test_gitrepository_end_to_end(client: Client, namespace: str, source: Manager, git_server: Any) -> None:
    repo = gitrepos.make_repo(git_server.root, "podinfo.git", FILES)
    head = gitrepos.commit(repo, {"deploy/app.yaml": FILES["deploy/app.yaml"]}, "second commit")
    await create_secret(client, namespace)
    await client.create(
        GITREPOSITORIES,
        gitrepository("podinfo", namespace, git_server.url_for("podinfo.git"), interval="3s"),
        namespace,
    )
    obj = await wait_revision(client, "podinfo", namespace, f"main@sha1:{head}")
    ready = conditions.get(obj, meta.READY)
    assert ready is not None and ready["reason"] == meta.SUCCEEDED
    assert ready["message"] == f"stored artifact for revision 'main@sha1:{head}'"
    assert obj["status"]["observedGeneration"] == 1
    artifact = obj["status"]["artifact"]
    assert artifact["path"] == f"gitrepository/{namespace}/podinfo/{head}.tar.gz"

    data = await download(artifact["url"])
    assert "sha256:" + hashlib.sha256(data).hexdigest() == artifact["digest"]
    assert len(data) == artifact["size"]
    files = members(data)
    assert set(files) == {"deploy/app.yaml", "README.md", "secret.txt"}, "Flux's default exclusions apply"

    # a new commit shows up at the next interval; a .sourceignore in it excludes what it lists
    head2 = gitrepos.commit(repo, {"deploy/extra.yaml": "kind: Namespace\n", ".sourceignore": "secret.txt\n"}, "third")
    obj = await wait_revision(client, "podinfo", namespace, f"main@sha1:{head2}", timeout=20)
    files = members(await download(obj["status"]["artifact"]["url"]))
    assert "deploy/extra.yaml" in files
    assert "secret.txt" not in files


async def test_requested_at_no_change_and_failures(
    client: Client, namespace: str, source: Manager, git_server: Any
) -> None:
    repo = gitrepos.make_repo(git_server.root, "app.git", FILES)
    head = gitrepos.commit(repo, {"x.yaml": "a: 1\n"}, "x")
    await create_secret(client, namespace)
    await client.create(GITREPOSITORIES, gitrepository("app", namespace, git_server.url_for("app.git")), namespace)
    obj = await wait_revision(client, "app", namespace, f"main@sha1:{head}")
    first_artifact = obj["status"]["artifact"]

    # no change: one ref listing, no clone (no upload-pack POST), same artifact
    posts_before = sum(1 for m, _, _ in git_server.requests if m == "POST")
    token = "2026-11-27T11:00:00Z"
    await client.patch(
        GITREPOSITORIES, "app", {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: token}}}, namespace
    )

    async def handled() -> bool:
        o = await client.get(GITREPOSITORIES, "app", namespace)
        return bool(o["status"].get("lastHandledReconcileAt") == token)

    await eventually(handled, what="requestedAt handled")
    assert sum(1 for m, _, _ in git_server.requests if m == "POST") == posts_before
    obj = await client.get(GITREPOSITORIES, "app", namespace)
    assert obj["status"]["artifact"] == first_artifact

    # an unknown branch: Ready=False naming the branch; the last artifact stays served and unchanged
    await client.patch(GITREPOSITORIES, "app", {"spec": {"ref": {"branch": "nope"}}}, namespace)

    async def failed() -> bool:
        o = await client.get(GITREPOSITORIES, "app", namespace)
        return conditions.is_false(o, meta.READY) and "nope" in conditions.get_message(o, meta.READY)

    await eventually(failed, what="Ready=False for an unknown branch")
    obj = await client.get(GITREPOSITORIES, "app", namespace)
    assert "nope" in conditions.get_message(obj, meta.READY)
    assert conditions.get_reason(obj, meta.READY) == "GitOperationFailed"
    assert obj["status"]["artifact"] == first_artifact
    assert await download(first_artifact["url"])

    # bad credentials: GitOperationFailed (as Flux) naming the rejection, and the password appears nowhere
    await client.patch(GITREPOSITORIES, "app", {"spec": {"ref": {"branch": "main"}}}, namespace)
    await wait_revision(client, "app", namespace, f"main@sha1:{head}")
    await client.delete(SECRETS, "git-auth", namespace)
    await create_secret(client, namespace, password="wrong-password-123")
    token = "2026-11-27T11:05:00Z"
    await client.patch(
        GITREPOSITORIES, "app", {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: token}}}, namespace
    )

    async def auth_failed() -> bool:
        o = await client.get(GITREPOSITORIES, "app", namespace)
        return o["status"].get("lastHandledReconcileAt") == token and conditions.is_false(o, meta.READY)

    await eventually(auth_failed, what="Ready=False after bad credentials")
    obj = await client.get(GITREPOSITORIES, "app", namespace)
    assert "wrong-password-123" not in str(obj)
    assert conditions.get_reason(obj, meta.READY) == "GitOperationFailed"
    assert "auth" in conditions.get_message(obj, meta.READY).lower()
    assert conditions.get(obj, "FetchFailed") is not None

    # deleting the source removes its artifacts
    storage_root = Path(source.controllers[0].reconciler.storage.root)  # type: ignore[attr-defined]
    assert (storage_root / first_artifact["path"]).exists()
    await client.delete(GITREPOSITORIES, "app", namespace)

    async def gone() -> bool:
        return await client.get_or_none(GITREPOSITORIES, "app", namespace) is None

    await eventually(gone, what="deletion")
    assert not (storage_root / first_artifact["path"]).exists()
