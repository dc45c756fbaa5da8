"""Where a Kustomization reads and writes: source and dependency lookups from watch caches, the client for
its target cluster (impersonation, kubeConfig), and health checks from a shared watch-based checker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import SERVICE_ACCOUNTS
from gotk.runtime import remote
from gotk.runtime.informer import Informer
from gotk.runtime.reconciler import Request
from gotk.runtime.results import GenericError, StallingError
from gotk.runtime.settings import Settings
from gotk.ssa import plan
from gotk.ssa.apply import ApplyMemory
from gotk.ssa.wait import HealthWatcher, ObjRef

Obj = dict[str, Any]

# kinds whose readiness kstatus can judge; `wait: true` checks every applied object of these kinds
STATUS_KINDS = frozenset(
    {
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CustomResourceDefinition",
        "Pod",
        "PersistentVolumeClaim",
        "Service",
        "PodDisruptionBudget",
    }
)


class Targets:
    """Shared lookups for every Kustomization reconcile in this process."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.sources: dict[str, Informer] = {}
        self.kustomizations: Informer | None = None
        self._clients: dict[str, Client] = {}
        self._watchers: dict[str, HealthWatcher] = {}
        self._watchers[""] = HealthWatcher(client)
        self._memories: dict[str, ApplyMemory] = {}

    def memory(self, req: Request[Any]) -> ApplyMemory:
        """What was last applied in the Kustomization's target cluster (the local one, or a kubeConfig's)."""
        ref = (req.spec.get("kubeConfig") or {}).get("secretRef") or {}
        key = f"{req.namespace}/{ref['name']}" if ref.get("name") else ""
        return self._memories.setdefault(key, ApplyMemory())

    async def source(self, kind: str, namespace: str, name: str) -> Obj | None:
        informer = self.sources.get(kind)
        if informer is None:
            return None
        return informer.get(namespace, name)

    def kustomization(self, namespace: str, name: str) -> Obj | None:
        return self.kustomizations.get(namespace, name) if self.kustomizations else None

    async def client_for(self, req: Request[Any]) -> Client:
        """The client for this Kustomization: remote (kubeConfig) and/or impersonating its service account."""
        spec = req.spec
        base = self.client
        key = ""
        try:
            kube_ref = remote.secret_ref(spec)
        except remote.UnsupportedKubeConfigError as exc:
            raise StallingError("ReconciliationFailed", str(exc)) from None
        if kube_ref:
            base, key = await self._remote(req.namespace, kube_ref)
        sa = spec.get("serviceAccountName") or self.settings.default_service_account
        if not sa:
            return base
        user = f"system:serviceaccount:{req.namespace}:{sa}"
        ckey = f"{key}|{user}"
        found = self._clients.get(ckey)
        if found is None:
            found = base.impersonating(user)
            self._clients[ckey] = found
        return found

    async def can_impersonate(self, req: Request[Any]) -> bool:
        """Flux's CanImpersonate: the account to impersonate, if any, still exists (read with our own client)."""
        sa = req.spec.get("serviceAccountName") or self.settings.default_service_account
        if not sa:
            return True
        try:
            return await self.client.get_or_none(SERVICE_ACCOUNTS, sa, req.namespace) is not None
        except ApiError:
            return False

    async def _remote(self, namespace: str, ref: Mapping[str, Any]) -> tuple[Client, str]:
        try:
            found = await remote.load(self.client, namespace, ref)
        except remote.KubeConfigError as exc:
            raise GenericError("ReconciliationFailed", str(exc)) from None
        client = self._clients.get(found.key)
        if client is None:
            client = self.client.for_config(found.config)
            self._clients[found.key] = client
            self._watchers[found.key] = HealthWatcher(client)
        return client, found.key

    def _watcher(self, req: Request[Any]) -> HealthWatcher:
        kube_ref = (req.spec.get("kubeConfig") or {}).get("secretRef")
        if not kube_ref:
            return self._watchers[""]
        for key, watcher in self._watchers.items():
            if key.startswith(f"{req.namespace}/{kube_ref['name']}@"):
                return watcher
        return self._watchers[""]

    def health_refs(
        self, req: Request[Any], objects: Sequence[Mapping[str, Any]], changes: plan.ChangeSet | None
    ) -> list[ObjRef]:
        """What to wait for: with `wait`, every applied object not skipped; else spec.healthChecks."""
        spec = req.spec
        if spec.get("wait"):
            skipped = {i for i, _, action in changes.entries if action == plan.SKIPPED} if changes else set()
            return [ObjRef.of(o) for o in objects if not plan.skipped(o) and plan.obj_id(o) not in skipped]
        refs = []
        for check in spec.get("healthChecks") or []:
            refs.append(
                ObjRef(
                    str(check.get("apiVersion") or "v1"),
                    str(check["kind"]),
                    str(check.get("namespace") or req.namespace),
                    str(check["name"]),
                )
            )
        return refs

    async def wait_healthy(
        self, req: Request[Any], refs: Sequence[ObjRef], *, timeout: float, custom: Sequence[Mapping[str, Any]]
    ) -> str | None:
        """None when every object is healthy; otherwise Flux's HealthCheckFailed message."""
        result = await self._watcher(req).wait(list(refs), timeout=timeout, fail_fast=True, custom=list(custom))
        if result.healthy:
            return None
        return result.message()

    async def wait_deleted(
        self, client: Client, coords: Sequence[tuple[str, str, str, str, str]], *, timeout: float
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pending = list(coords)
        while pending and loop.time() < deadline:
            still = []
            for ns, name, group, version, kind in pending:
                api_version = f"{group}/{version}" if group else version
                try:
                    res = await client.resource_for(api_version, kind)
                except ApiError:
                    continue
                if await client.get_or_none(res, name, ns or None) is not None:
                    still.append((ns, name, group, version, kind))
            pending = still
            if pending:
                await asyncio.sleep(0.5)

    async def close(self) -> None:
        for watcher in self._watchers.values():
            await watcher.stop()
        for c in self._clients.values():
            await c.close()
