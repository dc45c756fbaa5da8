"""The demo of `make run` (`flux local up --demo examples/demo`) on the real local control plane: the
example app is committed to a local smart-HTTP repository and deployed by a GitRepository and a Kustomization
until Ready, with its ConfigMap substituted; a pushed commit is applied at the next reconcile."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pygit2
import pytest

from gotk.api import meta
from gotk.cli import demo
from gotk.cli.output import CommandError
from gotk.kube.resources import CONFIGMAPS, GITREPOSITORIES, Resource
from gotk.local import gitrepos
from gotk.local.controlplane import ControlPlane

from .conftest import Harness

pytestmark = pytest.mark.cluster

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "demo"
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")


def test_read_files_refuses_an_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no files to commit"):
        demo.read_files(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "app.yaml").write_text("kind: ConfigMap\n")
    assert demo.read_files(tmp_path) == {"app.yaml": b"kind: ConfigMap\n"}


async def test_demo_app_deploys_and_follows_a_push(
    cluster: ControlPlane, harness: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await harness.start()
    ns = harness.namespace
    app = demo.Demo(cluster, EXAMPLE, namespace=ns, target_namespace=ns, git_root=tmp_path / "git")
    try:
        await asyncio.to_thread(app.start)
        shown = capsys.readouterr().out
        assert "Applied revision: main@sha1:" in shown
        assert "Deployment/" in shown and "HorizontalPodAutoscaler/" in shown
        assert "git clone http://127.0.0.1:" in shown

        deployment = await harness.client.get(DEPLOYMENTS, "podinfo", ns)
        assert deployment["spec"]["replicas"] == 2
        configs = (await harness.client.list(CONFIGMAPS, ns))["items"]
        generated = [c for c in configs if c["metadata"]["name"].startswith("podinfo-config-")]
        assert generated and generated[0]["data"]["PODINFO_UI_MESSAGE"] == "Hello from gotk, reconciled from Git"

        repo = tmp_path / "git" / "demo.git"
        head = pygit2.Repository(str(repo)).references["refs/heads/main"].peel(pygit2.Commit)
        blob = head.tree["deployment.yaml"]
        assert isinstance(blob, pygit2.Blob)
        changed = blob.data.replace(b"replicas: 2", b"replicas: 3")
        sha = gitrepos.commit(repo, {"deployment.yaml": changed}, "scale up")
        requested = {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: sha}}}
        await harness.client.patch(GITREPOSITORIES, demo.NAME, requested, ns)

        async def scaled() -> bool:
            live = await harness.client.get(DEPLOYMENTS, "podinfo", ns)
            return bool(live["spec"]["replicas"] == 3)

        await harness.eventually(scaled, timeout=60, what=f"replicas: 3 from {sha}")
    finally:
        app.stop()
