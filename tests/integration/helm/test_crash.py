"""A helm controller killed with SIGKILL in the middle of an upgrade, on the real control plane: the controllers
run as their own process (`flux controllers run`), the upgrade waits on a Deployment whose pod cannot be
scheduled, the process is killed while Helm's storage says `pending-upgrade`, and the next process unlocks the
release and upgrades it to the new revision, deployed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import HELMRELEASES, HELMREPOSITORIES, SECRETS
from gotk.local.controlplane import ControlPlane
from gotk.testing import helm
from gotk.testing.chartrepo import ChartRepoServer
from gotk.testing.controllersproc import ControllersProcess
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster
Obj = dict[str, Any]


async def test_sigkill_mid_upgrade_leaves_a_release_the_next_process_unlocks(
    cluster: ControlPlane, namespace: str, tmp_path: Path, charts: tuple[Path, ChartRepoServer]
) -> None:
    repo, server = charts
    chart = helm.write_chart(
        tmp_path / "src", "slow", "1.0.0", values={"rev": "1"}, templates={"d.yaml": helm.DEPLOYMENT_TEMPLATE}
    )
    helm.package(chart, repo)
    helm.repo_index(repo)
    ns = namespace
    async with Client(config.load(cluster.kubeconfig)) as c:
        env = Env(c, ns, repo, server, Path(cluster.kubeconfig))
        source = {"apiVersion": HELMREPOSITORIES.api_version, "kind": "HelmRepository", "metadata": {"name": "charts"},
                  "spec": {"url": server.url, "interval": "1h"}}  # fmt: skip
        await c.create(HELMREPOSITORIES, source, ns)
        body = helmrelease("crash", chart="slow", version="1.0.0", timeout="3m")
        first = ControllersProcess(cluster, tmp_path / "first", "source,helm", concurrent=4, watch_namespace=ns)
        (tmp_path / "first").mkdir()
        first.start()
        try:
            await c.create(HELMRELEASES, body, ns)
            await wait_release(env, "crash", ready_at(1), "installed")
            stuck = {"spec": {"values": {"rev": "2", "nodeSelector": {"gotk.example.com/nowhere": "true"}}}}
            await c.patch(HELMRELEASES, "crash", stuck, ns)

            async def pending() -> bool:
                found = await c.list(SECRETS, ns, label_selector="owner=helm,name=crash,status=pending-upgrade")
                return bool(found["items"])

            await eventually(pending, timeout=60, what="the upgrade under way (pending-upgrade in Helm's storage)")
            assert first.proc is not None
            first.proc.kill()  # SIGKILL: no shutdown, no unlock, no status patch
            first.proc.wait(10)
            first.proc = None
        finally:
            first.stop()

        await c.patch(HELMRELEASES, "crash", {"spec": {"values": {"rev": "3", "nodeSelector": None}}}, ns)
        (tmp_path / "second").mkdir()
        with ControllersProcess(cluster, tmp_path / "second", "source,helm", concurrent=4, watch_namespace=ns):
            obj = await wait_release(env, "crash", ready_at(3), "unlocked, then upgraded to revision 3", timeout=150)
        history = obj["status"]["history"]
        assert history[0]["status"] == "deployed"
        listed = helm.run("history", "crash", "-n", ns, "--kubeconfig", str(cluster.kubeconfig), "-o", "json")
        revisions = {r["revision"]: r for r in json.loads(listed.stdout)}
        assert revisions[2]["status"] == "failed", revisions[2]
        assert "pending-upgrade" in revisions[2]["description"], "unlocked from its stale pending state"
        assert revisions[3]["status"] == "deployed"
