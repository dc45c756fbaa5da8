"""One watch that every consumer of artifacts needs: a source has a new artifact, so enqueue its users.

`on_new_artifact(kind, users, enqueue)` is an informer handler for the sources of one kind: when an object's
`status.artifact` changes revision or digest, every object that `users` (a `RefIndex` keyed by
`(kind, namespace, name)`) says refers to it is enqueued. Kustomizations on their sources, HelmCharts on
theirs, HelmReleases on their charts use it.

`watch_configs(manager, controller, settings, refers)` is the other: Secrets and ConfigMaps labelled
`reconcile.fluxcd.io/watch: Enabled` (the `--watch-configs-label-selector`) whose data changes enqueue the
objects of `controller` in the same namespace that `refers(obj, kind, name)` says use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gotk.kube.resources import CONFIGMAPS, SECRETS
from gotk.runtime.controller import Controller
from gotk.runtime.informer import Informer, Key, key_of
from gotk.runtime.manager import Manager
from gotk.runtime.refindex import RefIndex
from gotk.runtime.settings import Settings

Obj = dict[str, Any]
Handler = Callable[[Obj | None, Obj | None], None]


def artifact_of(obj: Obj | None) -> Obj:
    """`status.artifact` of a source, or an empty dict."""
    artifact = ((obj or {}).get("status") or {}).get("artifact")
    return artifact if isinstance(artifact, dict) else {}


def artifact_changed(old: Obj | None, new: Obj | None) -> bool:
    """Whether the artifact's revision or digest differs between two versions of a source."""
    a, b = artifact_of(old), artifact_of(new)
    return (a.get("revision"), a.get("digest")) != (b.get("revision"), b.get("digest"))


def on_new_artifact(
    kind: str,
    users: RefIndex,
    enqueue: Callable[[Key], None],
    *,
    also: Callable[[Obj], Iterable[Key]] | None = None,
) -> Handler:
    """A handler for sources of `kind`: a new artifact enqueues its users (and whatever `also(source)` names)."""

    def handler(old: Obj | None, new: Obj | None) -> None:
        if new is None or not artifact_changed(old, new):
            return
        meta = new.get("metadata") or {}
        keys = set(users.users((kind, meta.get("namespace") or "", meta.get("name") or "")))
        if also is not None:
            keys.update(also(new))
        for key in sorted(keys):
            enqueue(key)

    return handler


def on_config(kind: str, controller: Controller, refers: Callable[[Obj, str, str], bool]) -> Handler:
    """A handler for Secrets or ConfigMaps: a change of data enqueues the objects that refer to it."""

    def handler(old: Obj | None, new: Obj | None) -> None:
        obj = new or old
        if obj is None or (old is not None and new is not None and _data(old) == _data(new)):
            return
        ns, name = key_of(obj)
        for user in controller.informer.list(ns):
            if refers(user, kind, name):
                controller.enqueue(key_of(user))

    return handler


def _data(obj: Obj) -> tuple[Any, Any]:
    return obj.get("data"), obj.get("binaryData")


def watch_configs(
    manager: Manager, controller: Controller, settings: Settings, refers: Callable[[Obj, str, str], bool]
) -> None:
    """Watch the labelled Secrets and ConfigMaps for `controller` (nothing when the selector is empty)."""
    if not settings.watch_configs_label_selector:
        return
    for kind, resource in (("Secret", SECRETS), ("ConfigMap", CONFIGMAPS)):
        informer = Informer(
            manager.client,
            resource,
            namespace=manager.options.watch_namespace,
            label_selector=settings.watch_configs_label_selector,
        )
        informer.add_handler(on_config(kind, controller, refers))
        manager.add_informer(controller.reconciler.controller_name, informer)
