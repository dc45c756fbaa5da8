"""Fixtures of the HelmRelease tests: the source and helm controllers in-process (`env`), a Helm HTTP repository of
charts packaged by the real `helm` CLI (`charts`), HelmRelease bodies and waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from gotk.helm import controller as helm_controller
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import HELMREPOSITORIES
from gotk.local.controlplane import ControlPlane
from gotk.runtime.manager import Manager, ManagerOptions
from gotk.runtime.settings import Settings
from gotk.source import controller as source_controller
from gotk.testing import helm
from gotk.testing.chartrepo import ChartRepoServer
from gotk.testing.helmreleases import Env

Obj = dict[str, Any]


@pytest.fixture
def charts(tmp_path: Path) -> Iterator[tuple[Path, ChartRepoServer]]:
    repo, src = tmp_path / "charts", tmp_path / "src"
    repo.mkdir()
    chart = helm.write_chart(src, "podinfo", "6.0.0", values={"greeting": "hello"})
    helm.package(chart, repo)
    broken = helm.write_chart(
        src, "broken", "1.0.0", templates={"cm.yaml": "kind: ConfigMap\nmetadata:\n  name: Not_Valid\n"}
    )
    helm.package(broken, repo)
    helm.repo_index(repo)
    with ChartRepoServer(repo) as server:
        yield repo, server


@pytest.fixture
async def env(
    cluster: ControlPlane,
    namespace: str,
    tmp_path: Path,
    charts: tuple[Path, ChartRepoServer],
    request: pytest.FixtureRequest,
) -> AsyncIterator[Env]:
    async with Client(config.load(cluster.kubeconfig)) as client:
        options = ManagerOptions(watch_namespace=namespace, concurrent=2, graceful_shutdown_timeout=10.0)
        manager = Manager(client, options)
        marker = request.node.get_closest_marker("settings")
        extra = dict(marker.kwargs) if marker is not None else {}
        settings = Settings(
            storage_path=str(tmp_path / "storage"), storage_addr="127.0.0.1:0", requeue_dependency=1.0, **extra
        )
        await source_controller.register(manager, settings)
        await helm_controller.register(manager, settings)
        stop = asyncio.Event()
        task = asyncio.create_task(manager.run(stop))
        repo, server = charts
        body = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": "charts"},
            "spec": {"url": server.url, "interval": "1h"},
        }
        await client.create(HELMREPOSITORIES, body, namespace)
        try:
            yield Env(client, namespace, repo, server, Path(cluster.kubeconfig))
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)
