"""What every source reconciler shares: the controller name, intervals, the storage step, artifact garbage
collection and clean-up on deletion. GitRepository, OCIRepository and Bucket subclass `ArtifactSource`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gotk.api import meta
from gotk.api import source_conditions as sc
from gotk.runtime import conditions, durations
from gotk.runtime.reconciler import Request
from gotk.runtime.results import Result
from gotk.source.storage import Storage

Obj = dict[str, Any]


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


class ArtifactSource:
    """Base of the source reconcilers: subclasses set `resource`, `condition_table`, `storage_kind`, `steps()`."""

    controller_name = "source-controller"
    storage_kind = ""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def stored_message(self, revision: str) -> str:
        return f"stored artifact for revision '{revision}'"

    def interval(self, obj: Obj) -> float:
        return durations.parse(str((obj.get("spec") or {}).get("interval") or "1m"))

    def retry_interval(self, obj: Obj) -> float | None:
        return None

    def timeout(self, obj: Obj) -> float:
        return durations.parse(str((obj.get("spec") or {}).get("timeout") or "60s"))

    async def finalize(self, req: Request) -> Result | None:
        await asyncio.to_thread(self.storage.remove_all, self.storage_kind, req.namespace, req.name)
        return None

    async def reconcile_storage(self, req: Request) -> Result | None:
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

    def artifact_missing(self, req: Request) -> None:
        """Hook: forget status fields that point at the vanished artifact."""

    async def gc(self, req: Request, current: str) -> None:
        """Garbage-collect the object's older artifacts; a failure is logged, never fatal."""
        try:
            await asyncio.to_thread(self.storage.garbage_collect, self.storage_kind, req.namespace, req.name, current)
        except OSError as exc:
            req.log.warning("garbage collection of old artifacts failed: %s", exc)
