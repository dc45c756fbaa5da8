"""The source controller: artifact storage, its HTTP server, and the source kinds' reconcilers.

`register(manager, settings)` is what `flux controllers run --controllers source` calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gotk.runtime import watches
from gotk.runtime.controller import Controller
from gotk.runtime.manager import Manager
from gotk.runtime.refindex import RefIndex
from gotk.runtime.settings import Settings
from gotk.source import server
from gotk.source.bucket.reconciler import BucketReconciler
from gotk.source.git import include as gitinclude
from gotk.source.git.reconciler import GitRepositoryReconciler
from gotk.source.helm.chart_reconciler import HelmChartReconciler, source_key
from gotk.source.helm.repository_reconciler import HelmRepositoryReconciler
from gotk.source.oci.reconciler import OCIRepositoryReconciler
from gotk.source.storage import Storage

Obj = dict[str, Any]


def advertised_address(storage_addr: str, adv_addr: str, port: int) -> str:
    """The host:port consumers use: --storage-adv-addr, else the bound address (localhost for a wildcard)."""
    if adv_addr:
        return adv_addr
    host = storage_addr.rpartition(":")[0] or "localhost"
    if host in ("0.0.0.0", "::", "[::]"):
        host = "localhost"
    return f"{host}:{port}"


async def register(manager: Manager, settings: Settings) -> None:
    """Start the artifact server and add the source reconcilers to `manager`."""
    root = Path(settings.storage_path)
    root.mkdir(parents=True, exist_ok=True)
    runner = await server.start(root, settings.storage_addr)
    manager.extra_servers.append(runner)
    adv = advertised_address(settings.storage_addr, settings.storage_adv_addr, server.bound_port(runner))
    storage = Storage(
        root,
        adv_addr=adv,
        retention_records=settings.artifact_retention_records,
        retention_ttl=settings.artifact_retention_ttl,
    )
    concurrency = settings.concurrent_source or manager.options.concurrent
    git = manager.add(
        GitRepositoryReconciler(storage, requeue_dependency=settings.requeue_dependency), concurrency=concurrency
    )
    git.informer.add_handler(gitinclude.watch(git.informer.list, git.enqueue))  # includers follow their includes
    manager.add(OCIRepositoryReconciler(storage), concurrency=concurrency)
    bucket = manager.add(BucketReconciler(storage), concurrency=concurrency)
    helmrepo = manager.add(HelmRepositoryReconciler(storage), concurrency=concurrency)
    charts = manager.add(
        HelmChartReconciler(storage, requeue_dependency=settings.requeue_dependency), concurrency=concurrency
    )
    watch_chart_sources(charts, {"GitRepository": git, "Bucket": bucket, "HelmRepository": helmrepo})


def watch_chart_sources(charts: Controller, sources: Mapping[str, Controller]) -> None:
    """Reconcile the HelmCharts of a source as soon as the source has a new artifact."""
    users = RefIndex(lambda chart: [source_key(chart)])
    charts.informer.add_handler(lambda old, new: users.update(new, old))
    for kind, controller in sources.items():
        controller.informer.add_handler(watches.on_new_artifact(kind, users, charts.enqueue))
