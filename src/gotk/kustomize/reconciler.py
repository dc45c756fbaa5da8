"""The Kustomization reconciler: source → dependencies → build → apply → prune → health, as Flux orders them.

Each step owns its failure reason (ArtifactFailed, DependencyNotReady, BuildFailed, ReconciliationFailed,
PruneFailed, HealthCheckFailed). A failed apply prunes nothing and keeps the previous inventory.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gotk.api import kustomize_v1, meta
from gotk.gocompat import durations
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import KUSTOMIZATIONS
from gotk.kustomize import build as kbuild
from gotk.kustomize import inventory
from gotk.kustomize.artifact_cache import ArtifactCache
from gotk.kustomize.decrypt.generators import decrypt_generator_sources
from gotk.kustomize.postbuild import PostBuildError, identities, post_build
from gotk.kustomize.sources import (
    artifact_of,
    dependency_problem,
    dependency_refs,
    source_ref,
)
from gotk.kustomize.targets import Targets
from gotk.runtime import artifacts, conditions
from gotk.runtime.dependencies import InvalidReadyExpr
from gotk.runtime.events import NORMAL, WARNING
from gotk.runtime.reconciler import NamedStep, Request
from gotk.runtime.results import GenericError, Result, StallingError, WaitingError
from gotk.runtime.settings import Settings
from gotk.ssa import ignore as ignore_rules
from gotk.ssa import plan
from gotk.ssa.apply import ApplyError, ResourceManager

Obj = dict[str, Any]
FIELD_MANAGER = "kustomize-controller"
NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"
HISTORY_LIMIT = 5


def applied(obj: Mapping[str, Any]) -> tuple[str, str]:
    """Ready's reason and message after a successful reconcile: the revision applied."""
    revision = (obj.get("status") or {}).get("lastAppliedRevision")
    return meta.RECONCILIATION_SUCCEEDED, f"Applied revision: {revision}"


CONDITIONS = conditions.ConditionTable(
    owned=(meta.READY, meta.HEALTHY, meta.RECONCILING, meta.STALLED),
    summarize=(meta.HEALTHY,),
    success=applied,
)


@dataclass
class KustomizationState:
    """What the Kustomization steps hand on: the source artifact, the built objects, where they go, how it went."""

    artifact: Obj = field(default_factory=dict)
    objects: list[Obj] = field(default_factory=list)
    client: Client | None = None
    manager: ResourceManager | None = None
    changes: plan.ChangeSet | None = None
    apply_seconds: float = 0.0
    inventory: list[Obj] = field(default_factory=list)

    @property
    def revision(self) -> str:
        return str(self.artifact.get("revision"))


Req = Request[KustomizationState]


def owner_labels(obj: Obj) -> dict[str, str]:
    md = obj["metadata"]
    return {NAME_LABEL: md["name"], NAMESPACE_LABEL: md["namespace"]}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KustomizationReconciler:
    """Makes the cluster match a Kustomization's source at its current revision."""

    controller_name = "kustomize-controller"
    resource = KUSTOMIZATIONS
    condition_table = CONDITIONS

    def __init__(
        self, *, targets: Targets, cache: ArtifactCache, builds: kbuild.BuildCache, settings: Settings
    ) -> None:
        self.targets = targets
        self.cache = cache
        self.builds = builds
        self.settings = settings

    def new_state(self) -> KustomizationState:
        return KustomizationState()

    def steps(self) -> Sequence[NamedStep[KustomizationState]]:
        return (
            NamedStep("source", self.reconcile_source),
            NamedStep("dependencies", self.reconcile_dependencies),
            NamedStep("build", self.reconcile_build),
            NamedStep("apply", self.reconcile_apply),
            NamedStep("prune", self.reconcile_prune),
            NamedStep("health", self.reconcile_health),
            NamedStep("finish", self.reconcile_finish),
        )

    def interval(self, obj: Obj) -> float:
        return kustomize_v1.interval(obj)

    def retry_interval(self, obj: Obj) -> float | None:
        return kustomize_v1.retry_interval(obj)

    def timeout(self, obj: Obj) -> float:
        """How long build, apply and health checks may take (spec.timeout, else spec.interval)."""
        return kustomize_v1.timeout(obj)

    # -- steps -----------------------------------------------------------------------------------

    async def reconcile_source(self, req: Req) -> Result | None:
        """Find the source and its artifact (waiting while there is none); record the revision attempted."""
        kind, namespace, name = source_ref(req.obj)
        if self.settings.no_cross_namespace_refs and namespace != req.namespace:
            message = f"cannot access {kind}/{namespace}/{name}, cross-namespace references have been disabled"
            raise StallingError(meta.ACCESS_DENIED, message)
        source = await self.targets.source(kind, namespace, name)
        if source is None:
            message = f"Source '{kind}/{namespace}/{name}' not found"
            raise WaitingError(meta.ARTIFACT_FAILED, message, self.settings.requeue_dependency)
        artifact = artifact_of(source)
        if artifact is None:
            retry = durations.format_seconds(self.settings.requeue_dependency)
            message = f"Source artifact not found for {kind}/{namespace}/{name}, retrying in {retry}"
            raise WaitingError(meta.ARTIFACT_FAILED, message, self.settings.requeue_dependency)
        req.state.artifact = artifact
        req.status["lastAttemptedRevision"] = artifact.get("revision")
        return None

    async def reconcile_dependencies(self, req: Req) -> Result | None:
        """Wait until every dependsOn Kustomization is ready (at this revision when it shares the source)."""
        revision = req.state.revision
        for ref, dep in zip(dependency_refs(req.obj), req.spec.get("dependsOn") or [], strict=True):
            if ref == (req.namespace, req.name):
                continue
            if self.settings.no_cross_namespace_refs and ref[0] != req.namespace:
                raise StallingError(
                    meta.ACCESS_DENIED,
                    f"cannot access Kustomization/{ref[0]}/{ref[1]}, cross-namespace references have been disabled",
                )
            try:
                problem = dependency_problem(
                    self.targets.kustomization(*ref),
                    ref,
                    obj=req.obj,
                    revision=revision,
                    ready_expr=dep.get("readyExpr"),
                )
            except InvalidReadyExpr as exc:
                raise StallingError(meta.INVALID_CEL_EXPRESSION, f"{meta.TERMINAL_ERROR}: {exc}") from None
            if problem is not None:
                message = f"{problem}, retrying in {durations.format_seconds(self.settings.requeue_dependency)}"
                raise WaitingError(meta.DEPENDENCY_NOT_READY, message, self.settings.requeue_dependency)
        return None

    async def reconcile_build(self, req: Req) -> Result | None:
        """Fetch the artifact, decrypt generator files, build, decrypt and substitute: the objects to apply."""
        artifact = req.state.artifact
        spec = req.spec
        timeout = durations.format_seconds(self.timeout(req.obj))
        req.progress(f"Building manifests for revision {req.state.revision} with a timeout of {timeout}")
        try:
            root = await self.cache.get(artifact["url"], artifact["digest"])
        except artifacts.ArtifactError as exc:
            raise GenericError(meta.ARTIFACT_FAILED, f"failed to download artifact: {exc}") from None
        keys: list[str] = []
        if spec.get("decryption"):
            try:
                keys = await identities(req.client, req.namespace, spec["decryption"])
            except PostBuildError as exc:
                raise GenericError(meta.BUILD_FAILED, str(exc)) from None
        try:
            objects = await kbuild.build(
                root,
                str(spec.get("path") or "./"),
                spec,
                digest=artifact["digest"],
                cache=self.builds,
                no_remote_bases=self.settings.no_remote_bases,
                prebuild=lambda tree: decrypt_generator_sources(tree, keys),
            )
        except kbuild.PathEscapeError as exc:
            raise StallingError(meta.INVALID_PATH, str(exc)) from None
        except kbuild.BuildError as exc:
            raise GenericError(meta.BUILD_FAILED, str(exc)) from None
        client = await self.targets.client_for(req)
        try:
            objects = await post_build(req, client, objects, identities=keys)
        except PostBuildError as exc:
            raise GenericError(meta.BUILD_FAILED, str(exc)) from None
        labels = owner_labels(req.obj)
        req.state.objects = [plan.prepare(o, labels) for o in objects]
        req.state.client = client
        return None

    async def reconcile_apply(self, req: Req) -> Result | None:
        """Server-side apply the objects stage by stage, each stage dry-run first."""
        state = req.state
        assert state.client is not None, "the build step sets the target client"
        req.progress(f"Applying revision {state.revision}")
        manager = ResourceManager(
            state.client,
            field_manager=FIELD_MANAGER,
            concurrency=self.settings.concurrent_ssa,
            memory=self.targets.memory(req),
        )
        started = time.monotonic()
        try:
            changes = await manager.apply_all_staged(
                state.objects,
                force=bool(req.spec.get("force")),
                ignore=self._ignore_rules(req),
                wait_timeout=self.timeout(req.obj),
            )
        except ApplyError as exc:
            raise GenericError(meta.RECONCILIATION_FAILED, str(exc)) from None
        except (ApiError, TimeoutError) as exc:
            raise GenericError(meta.RECONCILIATION_FAILED, str(exc)) from None
        state.changes = changes
        state.apply_seconds = time.monotonic() - started
        state.manager = manager
        summary = changes.summary()
        if summary:
            req.log.info("server-side apply completed", extra={"output": {s: a for _, s, a in changes.changed()}})
            await req.recorder.emit(
                req.obj,
                NORMAL,
                "ReconciliationSucceeded" if not req.spec.get("wait") else "Progressing",
                summary,
                metadata={"kustomize.toolkit.fluxcd.io/revision": state.revision},
            )
        return None

    def _ignore_rules(self, req: Req) -> Any:
        rules = req.spec.get("ignore") or []
        if not rules:
            return None
        return lambda obj: ignore_rules.paths_for(rules, obj)

    async def reconcile_prune(self, req: Req) -> Result | None:
        """Delete what the previous inventory has and this build does not (with `prune: true`)."""
        # skipped objects stay in the inventory, as in Flux: an opt-out must never turn into a prune
        new_entries = inventory.entries(req.state.objects)
        req.state.inventory = new_entries
        if not req.spec.get("prune"):
            return None
        old_entries = inventory.of_status(req.status)
        gone = inventory.stale(old_entries, new_entries)
        if not gone:
            return None
        manager = req.state.manager
        assert manager is not None, "the apply step sets the resource manager"
        try:
            changes = await manager.delete_all(gone, owner_labels=owner_labels(req.obj))
        except ApplyError as exc:
            raise GenericError(meta.PRUNE_FAILED, str(exc)) from None
        summary = changes.summary()
        if summary:
            req.log.info("garbage collection completed", extra={"output": summary})
            await req.recorder.emit(req.obj, NORMAL, "Progressing", summary)
        return None

    async def reconcile_health(self, req: Req) -> Result | None:
        """Wait until the applied objects (or spec.healthChecks) are healthy: the Healthy condition."""
        spec = req.spec
        refs = self.targets.health_refs(req, req.state.objects, req.state.changes)
        exprs = spec.get("healthCheckExprs") or []
        if not refs:
            conditions.delete(req.obj, meta.HEALTHY)
            return None
        timeout = durations.format_seconds(self.timeout(req.obj))
        req.progress(f"Running health checks for revision {req.state.revision} with a timeout of {timeout}")
        result = await self.targets.wait_healthy(req, refs, timeout=self.timeout(req.obj), custom=exprs)
        if result is not None:
            conditions.mark_false(req.obj, meta.HEALTHY, meta.HEALTH_CHECK_FAILED, result)
            self._record_inventory(req)
            raise GenericError(meta.HEALTH_CHECK_FAILED, result)
        conditions.mark_true(req.obj, meta.HEALTHY, meta.SUCCEEDED, "Health check passed")
        return None

    async def reconcile_finish(self, req: Req) -> Result | None:
        """Record the inventory, the applied revision and the history entry (Ready follows from the table)."""
        artifact = req.state.artifact
        revision = req.state.revision
        self._record_inventory(req)
        req.status["lastAppliedRevision"] = revision
        origin = (artifact.get("metadata") or {}).get("org.opencontainers.image.revision")
        if origin:
            req.status["lastAppliedOriginRevision"] = origin
        else:
            req.status.pop("lastAppliedOriginRevision", None)
        self._record_history(req, revision)
        return None

    def _record_inventory(self, req: Req) -> None:
        req.status["inventory"] = {"entries": req.state.inventory}

    def _record_history(self, req: Req, revision: str) -> None:
        objects = req.state.objects
        digest = "sha256:" + hashlib.sha256(json.dumps(objects, sort_keys=True).encode()).hexdigest()
        now = _now()
        history: list[Obj] = list(req.status.get("history") or [])
        duration = durations.format_seconds(req.state.apply_seconds)
        if (
            history
            and history[0].get("digest") == digest
            and history[0].get("lastReconciledStatus") == meta.RECONCILIATION_SUCCEEDED
        ):
            entry = dict(history[0])
            entry["lastReconciled"] = now
            entry["lastReconciledDuration"] = duration
            entry["totalReconciliations"] = int(entry.get("totalReconciliations") or 0) + 1
            history[0] = entry
        else:
            history.insert(
                0,
                {
                    "digest": digest,
                    "firstReconciled": now,
                    "lastReconciled": now,
                    "lastReconciledDuration": duration,
                    "lastReconciledStatus": meta.RECONCILIATION_SUCCEEDED,
                    "totalReconciliations": 1,
                    "metadata": {"revision": revision},
                },
            )
        req.status["history"] = history[:HISTORY_LIMIT]

    # -- deletion --------------------------------------------------------------------------------

    async def finalize(self, req: Req) -> Result | None:
        policy = req.spec.get("deletionPolicy") or "MirrorPrune"
        if policy == "Orphan" or (policy == "MirrorPrune" and not req.spec.get("prune")):
            return None
        entries = inventory.of_status(req.status)
        if not entries:
            return None
        if not await self.targets.can_impersonate(req):  # the tenant is gone: keep its objects, drop the finalizer
            listed = "\n".join(e["id"] for e in entries)
            req.log.error("skipping pruning, failed to find account to impersonate")
            await req.recorder.emit(req.obj, WARNING, meta.PRUNE_FAILED, f"unable to prune objects: \n{listed}")
            return None
        try:
            client = await self.targets.client_for(req)
        except Exception as exc:  # a missing kubeconfig Secret must not block deletion forever
            req.log.error("cannot reach the target cluster to delete objects: %s", exc)
            return None
        manager = ResourceManager(client, field_manager=FIELD_MANAGER, concurrency=self.settings.concurrent_ssa)
        coords = [inventory.coordinates(e) for e in entries]
        changes = await manager.delete_all(coords, owner_labels=owner_labels(req.obj))
        if policy == "WaitForTermination":
            await self.targets.wait_deleted(client, coords, timeout=self.timeout(req.obj))
        req.log.info("objects deleted", extra={"output": changes.summary()})
        return None
