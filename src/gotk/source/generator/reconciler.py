"""The ArtifactGenerator reconciler (Flux's source-watcher, run by gotk's source controller): observe the
sources' artifacts, skip when nothing drifted, else fetch them, build each output artifact (copy operations,
`pathPattern`), store it like every other artifact, publish it as an ExternalArtifact owned by the generator,
and garbage-collect the ExternalArtifacts it no longer produces.

An artifact's revision is `latest@<digest of its archive>` (or the `revision` source's), so an artifact whose
content did not change keeps its revision and its consumers are not reconciled.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from gotk.api import meta, source_v1
from gotk.api import source_extensions_v1beta1 as ag
from gotk.kube.errors import ApiError
from gotk.kube.resources import ARTIFACTGENERATORS, EXTERNALARTIFACTS
from gotk.runtime import artifacts, conditions
from gotk.runtime.conditions import ConditionTable
from gotk.runtime.events import NORMAL
from gotk.runtime.reconciler import NamedStep, Request
from gotk.runtime.results import GenericError, Result, StallingError, WaitingError
from gotk.source.generator import build, pattern
from gotk.source.storage import Storage

__all__ = ["FIELD_MANAGER", "ArtifactGeneratorReconciler", "observed_digest", "source_keys"]

Obj = dict[str, Any]
FIELD_MANAGER: Final = "source-watcher"  # Flux's controller name: the same manager owns the same fields
STORAGE_KIND: Final = "externalartifact"
REQUEUE: Final = 3600.0
SOURCE_FETCH_FAILED: Final = "SourceFetchFailed"
VALIDATION_FAILED: Final = "ValidationFailed"
BUILD_FAILED: Final = "BuildFailed"
RECONCILIATION_FAILED: Final = "ReconciliationFailed"


def _ready(obj: Mapping[str, Any]) -> tuple[str, str]:
    count = len((obj.get("status") or {}).get("inventory") or [])
    return meta.SUCCEEDED, f"reconciliation succeeded, generated {count} artifact(s)"


CONDITIONS: Final = ConditionTable(owned=(meta.READY, meta.RECONCILING, meta.STALLED), success=_ready)


@dataclass(frozen=True)
class Observed:
    """A source's artifact as the generator saw it."""

    digest: str
    revision: str
    url: str
    path: str
    origin_revision: str = ""


def observed_digest(sources: Mapping[str, Observed]) -> str:
    """Flux's HashObservedSources: sha256 over the sorted `alias=[digest=…,revision=…,url=…]` parts."""
    parts = sorted(f"{alias}=[digest={o.digest},revision={o.revision},url={o.url}]" for alias, o in sources.items())
    return "sha256:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def copy_problem(from_: str, to: str, aliases: set[str]) -> str:
    """What is wrong with a copy operation's paths before anything is read ('' when nothing): an unknown alias,
    or a path that climbs out of its source or of the artifact."""
    alias = from_.removeprefix("@").split("/", 1)[0]
    if "{" not in alias and alias not in aliases:
        return f"from: unknown source alias '@{alias}' in '{from_}'"
    for field_, path in (("from", from_.partition("/")[2]), ("to", to.partition("/")[2])):
        if ".." in path.split("/"):
            return f"{field_}: path '{path}' leaves its root in '{from_ if field_ == 'from' else to}'"
    return ""


def source_keys(generator: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of every source a generator reads."""
    namespace = (generator.get("metadata") or {}).get("namespace") or ""
    return [
        (str(s.get("kind") or ""), str(s.get("namespace") or namespace), str(s.get("name") or ""))
        for s in (generator.get("spec") or {}).get("sources") or []
    ]


def _walk_dirs(root: Path) -> list[str]:
    """The directories under `root` in Go's `filepath.WalkDir` order (depth first, names in byte order)."""
    out: list[str] = []
    for dirpath, dirnames, _ in os.walk(root):  # top-down: each directory before its children
        dirnames.sort(key=os.fsencode)
        rel = Path(dirpath).relative_to(root).as_posix()
        if rel != ".":
            out.append(rel)
    return out


@dataclass
class GeneratorState:
    """What the generator's steps hand on: the observed sources and their digest."""

    sources: dict[str, Observed] = field(default_factory=dict)
    digest: str = ""


class ArtifactGeneratorReconciler:
    """Composes and splits source artifacts into ExternalArtifacts."""

    controller_name = FIELD_MANAGER
    finalizer = ag.FINALIZER  # Flux's source-watcher's own, so that either controller can let go of it
    resource = ARTIFACTGENERATORS
    condition_table = CONDITIONS

    def __init__(
        self,
        storage: Storage,
        lookup: Callable[[str, str, str], Obj | None],
        *,
        no_cross_namespace_refs: bool = False,
        requeue_dependency: float = 30.0,
    ) -> None:
        self.storage = storage
        self.lookup = lookup  # (kind, namespace, name) -> the source from a watch cache
        self.no_cross_namespace_refs = no_cross_namespace_refs
        self.requeue_dependency = requeue_dependency

    def new_state(self) -> GeneratorState:
        """A fresh step state for one reconcile."""
        return GeneratorState()

    def steps(self) -> Sequence[NamedStep[GeneratorState]]:
        return (
            NamedStep("sources", self.reconcile_sources),
            NamedStep("drift", self.reconcile_drift),
            NamedStep("build", self.reconcile_build),
        )

    def interval(self, obj: Obj) -> float:
        return REQUEUE

    def retry_interval(self, obj: Obj) -> float | None:
        return None

    @staticmethod
    def disabled(obj: Obj) -> bool:
        """`source.extensions.fluxcd.io/reconcile: disabled` pauses the generator (its artifacts stay)."""
        value = ((obj.get("metadata") or {}).get("annotations") or {}).get(ag.RECONCILE_ANNOTATION, "")
        return str(value).lower() == "disabled"

    async def finalize(self, req: Request[GeneratorState]) -> Result | None:
        """Delete the ExternalArtifacts of the inventory and their stored files."""
        for ref in req.status.get("inventory") or []:
            await self._delete_artifact(req, str(ref.get("namespace") or req.namespace), str(ref.get("name")))
        return None

    # -- steps -----------------------------------------------------------------------------------

    async def reconcile_sources(self, req: Request[GeneratorState]) -> Result | None:
        """Check the spec and read every source's artifact from the watch caches."""
        if self.disabled(req.obj):
            req.log.info("reconciliation is disabled by the %s annotation", ag.RECONCILE_ANNOTATION)
            return Result(requeue_after=REQUEUE)
        seen: set[str] = set()
        for src in req.spec.get("sources") or []:
            alias = str(src.get("alias") or "")
            if alias in seen:
                raise StallingError(VALIDATION_FAILED, f"spec.sources: duplicate source alias '{alias}'")
            seen.add(alias)
        names = [str(a.get("name") or "") for a in req.spec.get("artifacts") or []]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise StallingError(VALIDATION_FAILED, f"spec.artifacts: duplicate artifact name '{twice[0]}'")
        for out in req.spec.get("artifacts") or []:
            where = f"spec.artifacts[{out.get('name')}]"
            for field_, ref in (("revision", out.get("revision")), ("originRevision", out.get("originRevision"))):
                if ref and str(ref).removeprefix("@") not in seen:
                    raise StallingError(VALIDATION_FAILED, f"{where}.{field_}: unknown source alias '{ref}'")
            for i, op in enumerate(out.get("copy") or []):
                problem = copy_problem(str(op.get("from") or ""), str(op.get("to") or ""), seen)
                if problem:
                    raise StallingError(VALIDATION_FAILED, f"{where}.copy[{i}]: {problem}")
        for src in req.spec.get("sources") or []:
            kind, name = str(src.get("kind")), str(src.get("name"))
            namespace = str(src.get("namespace") or req.namespace)
            if self.no_cross_namespace_refs and namespace != req.namespace:
                message = f"cross-namespace reference to source {kind}/{namespace}/{name} is not allowed"
                raise StallingError(meta.ACCESS_DENIED, message)
            obj = self.lookup(kind, namespace, name)
            if obj is None:
                message = f'get sources failed: {kind.lower()}s "{name}" not found'
                raise WaitingError(SOURCE_FETCH_FAILED, message, self.requeue_dependency)
            artifact = (obj.get("status") or {}).get("artifact") or {}
            if not artifact.get("url") or not artifact.get("digest"):
                message = f"get sources failed: source '{kind}/{namespace}/{name}' is not ready"
                raise WaitingError(SOURCE_FETCH_FAILED, message, self.requeue_dependency)
            origin = str((artifact.get("metadata") or {}).get(ag.ORIGIN_REVISION_ANNOTATION) or "")
            req.state.sources[str(src.get("alias"))] = Observed(
                str(artifact["digest"]),
                str(artifact.get("revision") or ""),
                str(artifact["url"]),
                str(artifact.get("path") or ""),
                origin,
            )
        req.state.digest = observed_digest(req.state.sources)
        return None

    async def reconcile_drift(self, req: Request[GeneratorState]) -> Result | None:
        """Stop here when the sources, the spec, the stored files and the ExternalArtifacts are as last built."""
        reason = await self._drift(req)
        if reason is None:
            return Result(requeue_after=REQUEUE)
        req.log.info("drift detected: %s", reason)
        conditions.mark_reconciling(req.obj, meta.PROGRESSING, "reconciliation in progress")
        return None

    async def _drift(self, req: Request[GeneratorState]) -> str | None:
        ready = conditions.get(req.obj, meta.READY)
        if ready is None or ready.get("status") != "True":
            return "NotReady"
        if ready.get("observedGeneration") != req.generation:
            return "GenerationChanged"
        if req.status.get("observedSourcesDigest") != req.state.digest:
            return "SourcesChanged"
        inventory = req.status.get("inventory") or []
        if not req.spec.get("pathPattern") and len(inventory) != len(req.spec.get("artifacts") or []):
            return "ArtifactsChanged"
        for ref in inventory:
            path = f"{STORAGE_KIND}/{ref.get('namespace')}/{ref.get('name')}/{ref.get('filename')}"
            if not await asyncio.to_thread(self.storage.verify, {"path": path, "digest": ref.get("digest")}):
                return "ArtifactMissing"
        try:
            listed = await req.client.list(
                EXTERNALARTIFACTS,
                req.namespace,
                label_selector=f"{ag.GENERATOR_LABEL}={req.obj['metadata'].get('uid', '')}",
            )
        except ApiError:
            return "ExternalArtifactsNotFound"
        found = {
            (e["metadata"]["name"]): ((e.get("status") or {}).get("artifact") or {}).get("digest")
            for e in listed.get("items") or []
        }
        if len(found) != len(inventory) or any(found.get(ref.get("name")) != ref.get("digest") for ref in inventory):
            return "ExternalArtifactsChanged"
        return None

    async def reconcile_build(self, req: Request[GeneratorState]) -> Result | None:
        """Fetch the sources, build and store each artifact, publish the ExternalArtifacts, collect the orphans."""
        req.progress("reconciliation in progress")
        workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="ag-"))
        req.defer(lambda: shutil.rmtree(workdir, ignore_errors=True))
        local = await self._fetch(req, workdir / "sources")
        try:
            requests = await asyncio.to_thread(self._requests, req.spec, local)
        except pattern.PatternError as exc:
            message = f"failed to expand path pattern: {exc}"
            if exc.terminal:
                raise StallingError(BUILD_FAILED, message) from None
            raise GenericError(BUILD_FAILED, message) from None
        old = {(r.get("name"), r.get("digest")) for r in req.status.get("inventory") or []}
        refs: list[Obj] = []
        staged = [(request, await self._stage(request, local, workdir / "staging")) for request in requests]
        for request, stage in staged:  # every artifact built before the first is stored: a failure writes nothing
            artifact = await self._store(req, request, stage)
            try:
                await self._publish(req, request, artifact)
            except ApiError as exc:
                message = f"{request.name} reconcile failed: {exc}"
                raise GenericError(RECONCILIATION_FAILED, message) from None
            refs.append(
                {
                    "name": request.name,
                    "namespace": req.namespace,
                    "digest": artifact["digest"],
                    "filename": str(artifact["path"]).rsplit("/", 1)[-1],
                }
            )
        current = {r["name"] for r in refs}
        for ref in req.status.get("inventory") or []:
            if ref.get("name") not in current:
                await self._delete_artifact(req, str(ref.get("namespace") or req.namespace), str(ref.get("name")))
        for ref in refs:
            path = f"{STORAGE_KIND}/{req.namespace}/{ref['name']}/{ref['filename']}"
            await asyncio.to_thread(self.storage.garbage_collect, STORAGE_KIND, req.namespace, ref["name"], path)
        req.status["inventory"] = refs
        req.status["observedSourcesDigest"] = req.state.digest
        changed = [f"{r['namespace']}/{r['name']} ({r['digest']})" for r in refs if (r["name"], r["digest"]) not in old]
        if changed:
            await req.recorder.emit(req.obj, NORMAL, meta.READY, "external artifacts reconciled: " + "\n".join(changed))
        return None

    # -- helpers ---------------------------------------------------------------------------------

    async def _fetch(self, req: Request[GeneratorState], root: Path) -> dict[str, Path]:
        """Each source's artifact extracted under `root/<alias>`: from this storage when it holds it, else its URL."""
        local: dict[str, Path] = {}
        for alias, src in req.state.sources.items():
            dest = root / alias
            stored: Mapping[str, object] = {"path": src.path, "digest": src.digest}
            try:
                held = bool(src.path) and await asyncio.to_thread(self.storage.verify, stored)
                if held:
                    await asyncio.to_thread(
                        artifacts.safe_extract, self.storage.local_path(src.path), dest, max_size=None
                    )
                else:
                    await artifacts.fetch(src.url, src.digest, dest, max_size=None, retries=2, retry_wait_min=1.0)
            except (artifacts.ArtifactError, OSError) as exc:
                raise WaitingError(
                    SOURCE_FETCH_FAILED, f"fetch sources failed: {exc}", self.requeue_dependency
                ) from None
            local[alias] = dest
        return local

    @staticmethod
    def _requests(spec: Mapping[str, Any], local: Mapping[str, Path]) -> list[pattern.ArtifactRequest]:
        artifacts_spec = list(spec.get("artifacts") or [])
        path_pattern = str(spec.get("pathPattern") or "")
        if not path_pattern:
            return [pattern.ArtifactRequest(a) for a in artifacts_spec]
        alias = path_pattern.partition("/")[0].removeprefix("@")
        root = local.get(alias)
        if root is None:
            raise pattern.PatternError(f"pathPattern {path_pattern!r}: source alias {alias} not found in local sources")
        return pattern.expand(path_pattern, artifacts_spec, _walk_dirs(root))

    @staticmethod
    async def _stage(request: pattern.ArtifactRequest, local: Mapping[str, Path], staging: Path) -> Path:
        """The artifact's content in a staging directory (nothing in storage yet)."""
        stage = staging / request.name
        ops = [build.CopyOp.from_spec(op) for op in request.spec.get("copy") or []]
        try:
            await asyncio.to_thread(build.apply_copies, ops, local, stage)
        except (build.BuildError, OSError) as exc:
            raise GenericError(BUILD_FAILED, f"{request.name} build failed: {exc}") from None
        return stage

    async def _store(self, req: Request[GeneratorState], request: pattern.ArtifactRequest, stage: Path) -> Obj:
        """Archive a staged artifact into storage, with its revision and origin revision."""
        name = request.name
        try:
            filename = f"{await asyncio.to_thread(build.content_hash, stage, name)}.tar.gz"
            artifact: Obj = dict(
                await asyncio.to_thread(self.storage.archive_dir, stage, STORAGE_KIND, req.namespace, name, filename)
            )
        except (build.BuildError, OSError) as exc:
            raise GenericError(BUILD_FAILED, f"{name} build failed: {exc}") from None
        artifact["revision"] = f"latest@{artifact['digest']}"
        revision_of = str(request.spec.get("revision") or "").removeprefix("@")
        if revision_of in req.state.sources:
            artifact["revision"] = req.state.sources[revision_of].revision
        origin_of = str(request.spec.get("originRevision") or "").removeprefix("@")
        if origin_of in req.state.sources:
            src = req.state.sources[origin_of]
            artifact["metadata"] = {ag.ORIGIN_REVISION_ANNOTATION: src.origin_revision or src.revision}
        return artifact

    async def _publish(self, req: Request[GeneratorState], request: pattern.ArtifactRequest, artifact: Obj) -> None:
        """Server-side apply the ExternalArtifact (labels, owner) and its status (the artifact, Ready)."""
        common = req.spec.get("commonMetadata") or {}
        labels = {**(common.get("labels") or {}), **request.labels}
        labels["app.kubernetes.io/managed-by"] = FIELD_MANAGER
        labels[ag.GENERATOR_LABEL] = str(req.obj["metadata"].get("uid") or "")
        meta_: Obj = {"name": request.name, "namespace": req.namespace, "labels": labels}
        if common.get("annotations"):
            meta_["annotations"] = dict(common["annotations"])
        meta_["ownerReferences"] = [
            {
                "apiVersion": f"{ag.GROUP}/{ag.VERSION}",
                "kind": "ArtifactGenerator",
                "name": req.name,
                "uid": req.obj["metadata"].get("uid"),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        body: Obj = {
            "apiVersion": f"{source_v1.GROUP}/{source_v1.VERSION}",
            "kind": "ExternalArtifact",
            "metadata": meta_,
            "spec": {
                "sourceRef": {
                    "apiVersion": f"{ag.GROUP}/{ag.VERSION}",
                    "kind": "ArtifactGenerator",
                    "name": req.name,
                    "namespace": req.namespace,
                }
            },
        }
        applied = await req.client.apply(EXTERNALARTIFACTS, body, field_manager=FIELD_MANAGER, force=True)
        ready = {
            "type": meta.READY,
            "status": "True",
            "reason": meta.SUCCEEDED,
            "message": "Artifact is ready",
            "observedGeneration": applied["metadata"].get("generation", 1),
            "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        previous = next(
            (c for c in (applied.get("status") or {}).get("conditions") or [] if c.get("type") == meta.READY), None
        )
        if previous and previous.get("status") == "True":
            ready["lastTransitionTime"] = previous.get("lastTransitionTime", ready["lastTransitionTime"])
        status_body = {
            "apiVersion": body["apiVersion"],
            "kind": "ExternalArtifact",
            "metadata": {"name": request.name, "namespace": req.namespace},
            "status": {"artifact": artifact, "conditions": [ready]},
        }
        await req.client.apply(
            EXTERNALARTIFACTS, status_body, field_manager=FIELD_MANAGER, force=True, subresource="status"
        )

    async def _delete_artifact(self, req: Request[GeneratorState], namespace: str, name: str) -> None:
        try:
            await req.client.delete(EXTERNALARTIFACTS, name, namespace)
        except ApiError as exc:
            if not exc.not_found:
                raise GenericError(
                    RECONCILIATION_FAILED, f"failed to delete ExternalArtifact {namespace}/{name}: {exc}"
                ) from None
        await asyncio.to_thread(self.storage.remove_all, STORAGE_KIND, namespace, name)
