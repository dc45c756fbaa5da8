"""What every source reconciler shares: the controller name, intervals, the storage step, artifact garbage
collection and clean-up on deletion. Every source kind subclasses `ArtifactSource[S]`, `S` being the kind's
step state (a dataclass of what its steps hand on to each other); `required` reads a state field that an
earlier step must have set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from gotk.api import meta, source_v1
from gotk.api import source_conditions as sc
from gotk.runtime import conditions
from gotk.runtime.events import NORMAL
from gotk.runtime.reconciler import NamedStep, Request
from gotk.runtime.results import GenericError, Result
from gotk.source.storage import Storage

Obj = dict[str, Any]
S = TypeVar("S")
T = TypeVar("T")


def required(value: T | None, what: str) -> T:
    """`value`, which an earlier step sets (`what` names it); None means that step did not run to its end."""
    if value is None:
        raise RuntimeError(f"{what} is not set: the step that sets it did not run to its end")
    return value


def condition_table(*extra: str) -> conditions.ConditionTable:
    """A source kind's condition table (Flux's summarize order), with the kind's `extra` conditions."""
    negative = (sc.STORAGE_OPERATION_FAILED, sc.FETCH_FAILED, *[c for c in extra if c != sc.SOURCE_VERIFIED])
    positive = (sc.ARTIFACT_OUTDATED, sc.ARTIFACT_IN_STORAGE, *[c for c in extra if c == sc.SOURCE_VERIFIED])
    summarize = (*negative, *positive, meta.STALLED, meta.RECONCILING)
    return conditions.ConditionTable(
        owned=(*negative, *positive, meta.READY, meta.RECONCILING, meta.STALLED),
        summarize=summarize,
        negative_polarity=(*negative, sc.ARTIFACT_OUTDATED, meta.STALLED, meta.RECONCILING),
    )


class ArtifactSource(Generic[S]):
    """Base of the source reconcilers: subclasses set `resource`, `condition_table`, `storage_kind`, `spec_model`,
    `new_state()` and their own steps (`steps()` lists them)."""

    controller_name = "source-controller"
    storage_kind = ""
    spec_model: type = source_v1.GitRepositorySpec  # each kind sets its own: the model its defaults come from

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def new_state(self) -> S:
        """A fresh step state for one reconcile."""
        raise NotImplementedError

    def steps(self) -> Sequence[NamedStep[S]]:
        """Flux's source steps: storage, source, artifact (GitRepository adds includes)."""
        return (
            NamedStep("storage", self.reconcile_storage),
            NamedStep("source", self.reconcile_source),
            NamedStep("artifact", self.reconcile_artifact),
        )

    async def reconcile_source(self, req: Request[S]) -> Result | None:
        """Fetch the source, unless it is unchanged (each kind's own step)."""
        raise NotImplementedError

    async def reconcile_artifact(self, req: Request[S]) -> Result | None:
        """Store the fetched source as an artifact and record it in the status (each kind's own step)."""
        raise NotImplementedError

    @staticmethod
    def outdated(req: Request[Any], message: str, reason: str = sc.NEW_REVISION) -> None:
        """A new revision is coming: ArtifactOutdated (when there is an artifact) and Reconciling."""
        if req.status.get("artifact"):
            conditions.mark_true(req.obj, sc.ARTIFACT_OUTDATED, reason, message)
        conditions.mark_reconciling(req.obj, meta.PROGRESSING, f"building artifact: {message}")

    def stored_message(self, revision: str) -> str:
        return f"stored artifact for revision '{revision}'"

    def interval(self, obj: Obj) -> float:
        return source_v1.interval(obj, self.spec_model)

    def retry_interval(self, obj: Obj) -> float | None:
        return None

    def timeout(self, obj: Obj) -> float:
        """spec.timeout of this kind's objects, in seconds."""
        return source_v1.timeout(obj, self.spec_model)

    async def finalize(self, req: Request[Any]) -> Result | None:
        """Remove the object's artifacts from storage (it is being deleted)."""
        await asyncio.to_thread(self.storage.remove_all, self.storage_kind, req.namespace, req.name)
        return None

    async def reconcile_storage(self, req: Request[Any]) -> Result | None:
        """Drop a status.artifact whose file vanished (and say so), or refresh its URL and condition."""
        artifact = req.status.get("artifact")
        if artifact and not await asyncio.to_thread(self.storage.exists, artifact):
            req.status.pop("artifact", None)
            self.artifact_missing(req)
            conditions.delete(req.obj, sc.ARTIFACT_IN_STORAGE)
            conditions.mark_reconciling(req.obj, meta.PROGRESSING, "building artifact: disappeared from storage")
            return None
        if artifact:
            artifact["url"] = self.storage.url_for(artifact["path"])
            message = self.stored_message(artifact["revision"])
            conditions.mark_true(req.obj, sc.ARTIFACT_IN_STORAGE, meta.SUCCEEDED, message)
        return None

    async def store(
        self, req: Request[Any], what: str, write: Callable[..., Mapping[str, Any]], *args: Any, **kw: Any
    ) -> Obj:
        """Run one blocking storage write (`write(*args, **kw)`); a failure marks StorageOperationFailed."""
        try:
            return dict(await asyncio.to_thread(write, *args, **kw))
        except (OSError, ValueError) as exc:
            message = f"unable to {what} to storage: {exc}"
            conditions.mark_true(req.obj, sc.STORAGE_OPERATION_FAILED, sc.ARCHIVE_OPERATION_FAILED, message)
            raise GenericError(sc.ARCHIVE_OPERATION_FAILED, message) from None

    async def link(self, req: Request[Any], artifact: Mapping[str, Any], name: str) -> None:
        """Point the stable `status.url` link `name` at the artifact."""
        try:
            req.status["url"] = await asyncio.to_thread(self.storage.symlink, artifact, name)
        except OSError as exc:
            message = f"failed to update status URL symlink: {exc}"
            conditions.mark_true(req.obj, sc.STORAGE_OPERATION_FAILED, sc.SYMLINK_UPDATE_FAILED, message)
            raise GenericError(sc.SYMLINK_UPDATE_FAILED, message) from None

    @staticmethod
    async def announce(req: Request[Any], reason: str, message: str, artifact: Mapping[str, Any]) -> None:
        """The Normal event of a new artifact, with its revision and digest for the notification controller."""
        metadata = {
            "source.toolkit.fluxcd.io/revision": str(artifact.get("revision")),
            "source.toolkit.fluxcd.io/digest": str(artifact.get("digest")),
        }
        await req.recorder.emit(req.obj, NORMAL, reason, message, metadata=metadata)

    def artifact_missing(self, req: Request[Any]) -> None:
        """Hook: forget status fields that point at the vanished artifact."""

    async def gc(self, req: Request[Any], current: str) -> None:
        """Garbage-collect the object's older artifacts; a failure is logged, never fatal."""
        try:
            await asyncio.to_thread(self.storage.garbage_collect, self.storage_kind, req.namespace, req.name, current)
        except OSError as exc:
            req.log.warning("garbage collection of old artifacts failed: %s", exc)
