"""The image controllers: the reflector (ImageRepository and ImagePolicy, which share the tag store under the
storage path) and the automation (ImageUpdateAutomation), which meets the policies only through the API.

`register` runs both (`flux controllers run --controllers image`); `register_reflector` and
`register_automation` run one each (`image-reflector`, `image-automation`: one per Deployment).
"""

from __future__ import annotations

from typing import Any

from gotk.image.automation import CONTROLLER as AUTOMATION
from gotk.image.automation import ImageUpdateAutomationReconciler
from gotk.image.policy import IMAGE_POLICIES, ImagePolicyReconciler, repository_key
from gotk.image.repository import ImageRepositoryReconciler
from gotk.image.store import TagStore
from gotk.kube.resources import GITREPOSITORIES
from gotk.runtime.controller import Controller
from gotk.runtime.informer import Informer, Key
from gotk.runtime.manager import Manager
from gotk.runtime.refindex import RefIndex
from gotk.runtime.settings import Settings

Obj = dict[str, Any]


def _scan_of(obj: Obj | None) -> tuple[Any, ...]:
    status = (obj or {}).get("status") or {}
    ready = next((c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    return ((status.get("lastScanResult") or {}).get("revision"), status.get("canonicalImageName"), ready)


def _latest_of(obj: Obj | None) -> Any:
    return ((obj or {}).get("status") or {}).get("latestRef")


async def register_reflector(manager: Manager, settings: Settings) -> tuple[Controller, Controller]:
    """ImageRepository and ImagePolicy, over one tag store; a repository's new scan enqueues its policies."""
    store = TagStore(settings.storage_path)
    repositories = manager.add(ImageRepositoryReconciler(store))
    policies = manager.add(
        ImagePolicyReconciler(
            store,
            repositories.informer.get,
            no_cross_namespace_refs=settings.no_cross_namespace_refs,
            requeue_dependency=settings.requeue_dependency,
        )
    )
    users = RefIndex(lambda policy: [repository_key(policy)])
    policies.informer.add_handler(lambda old, new: users.update(new, old))

    def on_repository(old: Obj | None, new: Obj | None) -> None:
        if new is None or _scan_of(old) == _scan_of(new):
            return
        meta = new.get("metadata") or {}
        for key in sorted(users.users((meta.get("namespace") or "", meta.get("name") or ""))):
            policies.enqueue(key)

    repositories.informer.add_handler(on_repository)
    return repositories, policies


async def register_automation(manager: Manager, settings: Settings) -> Controller:
    """ImageUpdateAutomation, with its own watches of ImagePolicies and GitRepositories."""
    namespace = manager.options.watch_namespace
    policy_informer = Informer(manager.client, IMAGE_POLICIES, namespace=namespace)
    sources = Informer(manager.client, GITREPOSITORIES, namespace=namespace)
    manager.add_informer(AUTOMATION, policy_informer)
    manager.add_informer(AUTOMATION, sources)
    automations = manager.add(
        ImageUpdateAutomationReconciler(
            policy_informer.list,
            sources.get,
            no_cross_namespace_refs=settings.no_cross_namespace_refs,
            force_push_branch=settings.git_force_push_branch,
        )
    )

    def in_namespace(ns: str) -> list[Key]:
        return sorted((ns, str(a["metadata"]["name"])) for a in automations.informer.list(ns))

    def on_policy(old: Obj | None, new: Obj | None) -> None:
        obj = new or old
        if obj is None or _latest_of(old) == _latest_of(new):
            return
        for key in in_namespace(str(obj["metadata"].get("namespace") or "")):
            automations.enqueue(key)

    def on_source(old: Obj | None, new: Obj | None) -> None:
        if new is None or old is None or (old.get("spec") == new.get("spec")):
            return
        ns, name = new["metadata"].get("namespace") or "", new["metadata"]["name"]
        for automation in automations.informer.list():
            ref = (automation.get("spec") or {}).get("sourceRef") or {}
            ameta = automation["metadata"]
            if ref.get("name") == name and (ref.get("namespace") or ameta.get("namespace")) == ns:
                automations.enqueue((ameta.get("namespace") or "", ameta["name"]))

    policy_informer.add_handler(on_policy)
    sources.add_handler(on_source)
    return automations


async def register(manager: Manager, settings: Settings) -> None:
    """Both image controllers in one process."""
    await register_reflector(manager, settings)
    await register_automation(manager, settings)
