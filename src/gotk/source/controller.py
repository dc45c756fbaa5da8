"""The source controller: artifact storage, its HTTP server, and the source kinds' reconcilers.

`register(manager, settings)` is what `flux controllers run --controllers source` calls.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gotk.api.source_extensions_v1beta1 import GENERATOR_LABEL
from gotk.kube.errors import ApiError
from gotk.kube.resources import ARTIFACTGENERATORS, EXTERNALARTIFACTS, Resource
from gotk.runtime import watches
from gotk.runtime.controller import Controller
from gotk.runtime.informer import Informer
from gotk.runtime.manager import Manager
from gotk.runtime.refindex import RefIndex
from gotk.runtime.settings import Settings
from gotk.source import server
from gotk.source.bucket.reconciler import BucketReconciler
from gotk.source.generator.reconciler import FIELD_MANAGER as GENERATOR_CONTROLLER
from gotk.source.generator.reconciler import ArtifactGeneratorReconciler, source_keys
from gotk.source.git import include as gitinclude
from gotk.source.git.reconciler import GitRepositoryReconciler
from gotk.source.helm.chart_reconciler import HelmChartReconciler, source_key
from gotk.source.helm.repository_reconciler import HelmRepositoryReconciler
from gotk.source.oci.reconciler import OCIRepositoryReconciler
from gotk.source.storage import Storage

Obj = dict[str, Any]
log = logging.getLogger("gotk.source")


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
    oci = manager.add(OCIRepositoryReconciler(storage), concurrency=concurrency)
    bucket = manager.add(BucketReconciler(storage), concurrency=concurrency)
    helmrepo = manager.add(HelmRepositoryReconciler(storage), concurrency=concurrency)
    charts = manager.add(
        HelmChartReconciler(storage, requeue_dependency=settings.requeue_dependency), concurrency=concurrency
    )
    watch_chart_sources(charts, {"GitRepository": git, "Bucket": bucket, "HelmRepository": helmrepo})
    if not await served(manager, ARTIFACTGENERATORS):
        log.info(
            "ArtifactGenerator is not served (its CRD, component source-watcher, is not installed): not running it"
        )
        return
    external = Informer(manager.client, EXTERNALARTIFACTS, namespace=manager.options.watch_namespace)
    manager.add_informer(GENERATOR_CONTROLLER, external)
    informers = {
        "GitRepository": git.informer,
        "OCIRepository": oci.informer,
        "Bucket": bucket.informer,
        "HelmChart": charts.informer,
        "ExternalArtifact": external,
    }

    def lookup(kind: str, namespace: str, name: str) -> Obj | None:
        informer = informers.get(kind)
        return informer.get(namespace, name) if informer is not None else None

    generators = manager.add(
        ArtifactGeneratorReconciler(
            storage,
            lookup,
            no_cross_namespace_refs=settings.no_cross_namespace_refs,
            requeue_dependency=settings.requeue_dependency,
        ),
        concurrency=concurrency,
    )
    watch_generator_sources(generators, informers)


async def served(manager: Manager, resource: Resource) -> bool:
    """Whether the API server serves `resource` (its CRD is installed), by the group version's discovery."""
    try:
        found = await manager.client.request("GET", f"/apis/{resource.group}/{resource.version}")
    except ApiError as exc:
        if exc.not_found:
            return False
        raise
    return any(r.get("name") == resource.plural for r in (found or {}).get("resources") or [])


def watch_generator_sources(generators: Controller, informers: Mapping[str, Informer]) -> None:
    """A source's new artifact regenerates the generators that read it; a generated ExternalArtifact changed or
    deleted by someone else brings its generator back to restore it."""
    users = RefIndex(source_keys)
    generators.informer.add_handler(lambda old, new: users.update(new, old))
    for kind, informer in informers.items():
        informer.add_handler(watches.on_new_artifact(kind, users, generators.enqueue))

    def on_generated(old: Obj | None, new: Obj | None) -> None:
        obj = new or old
        uid = ((obj or {}).get("metadata") or {}).get("labels", {}).get(GENERATOR_LABEL)
        if not uid or (new is not None and old is not None and old.get("status") == new.get("status")):
            return
        for generator in generators.informer.list(obj["metadata"].get("namespace")):  # type: ignore[index]
            if generator["metadata"].get("uid") == uid:
                generators.enqueue((generator["metadata"].get("namespace") or "", generator["metadata"]["name"]))

    informers["ExternalArtifact"].add_handler(on_generated)


def watch_chart_sources(charts: Controller, sources: Mapping[str, Controller]) -> None:
    """Reconcile the HelmCharts of a source as soon as the source has a new artifact."""
    users = RefIndex(lambda chart: [source_key(chart)])
    charts.informer.add_handler(lambda old, new: users.update(new, old))
    for kind, controller in sources.items():
        controller.informer.add_handler(watches.on_new_artifact(kind, users, charts.enqueue))
