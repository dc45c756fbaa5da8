"""The kustomize controller: wires the Kustomization reconciler to the manager, with watches on sources,
dependencies and labelled Secrets/ConfigMaps so that exactly the affected Kustomizations are reconciled.

`register(manager, settings)` is what `flux controllers run --controllers kustomize` calls.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from gotk.kustomize import build as kbuild
from gotk.kustomize.artifact_cache import ArtifactCache
from gotk.kustomize.reconciler import KustomizationReconciler
from gotk.kustomize.sources import SOURCE_KINDS, dependency_refs, ready_changed, source_ref
from gotk.kustomize.targets import Targets
from gotk.runtime import watches
from gotk.runtime.controller import Controller
from gotk.runtime.informer import Informer, key_of
from gotk.runtime.manager import Manager
from gotk.runtime.refindex import RefIndex
from gotk.runtime.settings import Settings

Obj = dict[str, Any]


def references_config(ks: Obj, kind: str, name: str) -> bool:
    spec = ks.get("spec") or {}
    post = spec.get("postBuild") or {}
    if any(r.get("kind") == kind and r.get("name") == name for r in post.get("substituteFrom") or []):
        return True
    if kind == "Secret":
        if ((spec.get("decryption") or {}).get("secretRef") or {}).get("name") == name:
            return True
        if (((spec.get("kubeConfig") or {}).get("secretRef")) or {}).get("name") == name:
            return True
    return False


class Wiring:
    """Event handlers that turn changes of related objects into Kustomization work."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.sources = RefIndex(lambda ks: [source_ref(ks)])
        self.dependents = RefIndex(dependency_refs)

    def on_kustomization(self, old: Obj | None, new: Obj | None) -> None:
        self.sources.update(new, old)
        self.dependents.update(new, old)
        changed = new if new is not None else old
        if changed is None or not ready_changed(old, new):
            return
        for key in self.dependents.users(key_of(changed)):
            self.controller.enqueue(key)

    def on_source(self, kind: str) -> Any:
        return watches.on_new_artifact(kind, self.sources, self.controller.enqueue)


async def register(manager: Manager, settings: Settings) -> None:
    client = manager.client
    targets = Targets(client, settings)
    cache_root = Path(tempfile.mkdtemp(prefix="gotk-kustomize-"))
    reconciler = KustomizationReconciler(
        targets=targets,
        cache=ArtifactCache(cache_root / "artifacts"),
        builds=kbuild.BuildCache(),
        settings=settings,
    )
    controller = manager.add(reconciler)
    targets.kustomizations = controller.informer
    wiring = Wiring(controller)
    controller.informer.add_handler(wiring.on_kustomization)
    name = reconciler.controller_name
    opts = manager.options
    for kind, resource in SOURCE_KINDS.items():
        informer = Informer(client, resource, namespace=opts.watch_namespace)
        informer.add_handler(wiring.on_source(kind))
        targets.sources[kind] = informer
        manager.add_informer(name, informer)
    watches.watch_configs(manager, controller, settings, references_config)
    manager.cleanups.append(targets.close)
