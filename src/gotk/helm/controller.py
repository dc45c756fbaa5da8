"""The helm controller: HelmReleases reconciled with real Helm releases (`libgotkhelm.so`, see `gotk.helm.lib`).

A HelmRelease is reconciled again as soon as its chart has a new artifact: the HelmChart it created (labelled
with its name and namespace) or the HelmChart/OCIRepository its `chartRef` names, and when a ConfigMap or
Secret of its `valuesFrom` labelled `reconcile.fluxcd.io/watch: Enabled` changes.
`register(manager, settings)` is what `flux controllers run --controllers helm` calls.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from gotk.helm.lib import HelmLib
from gotk.helm.reconciler import CHART_REFS, HelmReleaseReconciler
from gotk.helm.status import kubeconfig_file
from gotk.runtime import watches
from gotk.runtime.informer import Informer
from gotk.runtime.manager import Manager
from gotk.runtime.refindex import RefIndex
from gotk.runtime.settings import Settings

Obj = dict[str, Any]
NAME_LABEL, NAMESPACE_LABEL = "helm.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/namespace"


def chart_ref(release: Obj) -> list[tuple[str, str, str]]:
    ref = (release.get("spec") or {}).get("chartRef")
    if not ref:
        return []
    ns = ref.get("namespace") or release["metadata"].get("namespace") or ""
    return [(str(ref.get("kind")), ns, str(ref.get("name")))]


def uses_config(release: Obj, kind: str, name: str) -> bool:
    """Whether a HelmRelease takes values from this ConfigMap or Secret (its `valuesFrom`)."""
    refs = (release.get("spec") or {}).get("valuesFrom") or []
    return any(r.get("kind") == kind and r.get("name") == name for r in refs if isinstance(r, dict))


def created_by(chart: Obj) -> list[tuple[str, str]]:
    """The HelmRelease that made this HelmChart (from its labels), if any."""
    labels = (chart.get("metadata") or {}).get("labels") or {}
    if labels.get(NAME_LABEL) and labels.get(NAMESPACE_LABEL):
        return [(labels[NAMESPACE_LABEL], labels[NAME_LABEL])]
    return []


async def _shutdown(reconciler: HelmReleaseReconciler) -> None:
    reconciler.pool.shutdown(wait=False, cancel_futures=True)
    await reconciler.close()


async def register(manager: Manager, settings: Settings) -> None:
    lib = HelmLib()
    workdir = Path(tempfile.mkdtemp(prefix="gotk-helm-"))
    kubeconfig = kubeconfig_file(manager.client.config, workdir)
    reconciler = HelmReleaseReconciler(
        lib,
        kubeconfig,
        requeue_dependency=settings.requeue_dependency,
        workers=manager.options.concurrent,
        no_cross_namespace_refs=settings.no_cross_namespace_refs,
        default_service_account=settings.default_service_account,
    )
    releases = manager.add(reconciler)
    manager.cleanups.append(lambda: _shutdown(reconciler))
    users = RefIndex(chart_ref)
    releases.informer.add_handler(lambda old, new: users.update(new, old))
    for kind, resource in CHART_REFS.items():
        informer = Informer(manager.client, resource, namespace=manager.options.watch_namespace)
        reconciler.sources[kind] = informer
        informer.add_handler(
            watches.on_new_artifact(kind, users, releases.enqueue, also=created_by if kind == "HelmChart" else None)
        )
        manager.add_informer(HelmReleaseReconciler.controller_name, informer)
    watches.watch_configs(manager, releases, settings, uses_config)
