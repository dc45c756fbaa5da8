"""The controller loop for one kind: informer events -> work queue -> workers running the reconciler.

Each reconcile handles deletion (finalizer), adds the finalizer, honours `suspend`, runs the steps (a long
step's progress is written while it runs, `gotk.runtime.progress`), then settles Ready by the kind's condition
table (`results.settle`), sets observedGeneration and lastHandledReconcileAt, and patches the status once.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import time
import uuid
from typing import Any

from gotk.api import meta
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.runtime import conditions, results
from gotk.runtime.events import NORMAL, WARNING, EventRecorder
from gotk.runtime.informer import Informer, Key, key_of
from gotk.runtime.logging import object_logger
from gotk.runtime.metrics import Metrics
from gotk.runtime.progress import Progress
from gotk.runtime.queue import QueueShutDown, WorkQueue
from gotk.runtime.reconciler import Reconciler, Request, run_steps

Obj = dict[str, Any]
log = logging.getLogger("gotk.controller")


def needs_reconcile(old: Obj | None, new: Obj | None) -> bool:
    """Flux's predicates: new object, generation change, new requestedAt, or deletion started."""
    if new is None:
        return False
    if old is None:
        return True
    om, nm = old.get("metadata") or {}, new.get("metadata") or {}
    if om.get("generation") != nm.get("generation"):
        return True
    oa, na = om.get("annotations") or {}, nm.get("annotations") or {}
    if oa.get(meta.RECONCILE_REQUEST_ANNOTATION) != na.get(meta.RECONCILE_REQUEST_ANNOTATION):
        return True
    return bool(nm.get("deletionTimestamp")) and not om.get("deletionTimestamp")


class Controller:
    """Runs one reconciler with `concurrency` workers; never runs one object twice at a time."""

    def __init__(
        self,
        reconciler: Reconciler[Any],
        client: Client,
        informer: Informer,
        *,
        recorder: EventRecorder,
        metrics: Metrics,
        queue: WorkQueue[Key] | None = None,
        concurrency: int = 4,
        progress_delay: float = 1.0,
    ) -> None:
        self.reconciler = reconciler
        self.client = client
        self.informer = informer
        self.recorder = recorder
        self.metrics = metrics
        self.queue: WorkQueue[Key] = queue or WorkQueue()
        self.concurrency = concurrency
        self.progress_delay = progress_delay
        self.in_flight = 0
        self.reconciles = 0
        informer.add_handler(self._on_change)

    @property
    def finalizer(self) -> str:
        """The kind's finalizer: Flux's `finalizers.fluxcd.io`, unless the reconciler names its own."""
        return str(getattr(self.reconciler, "finalizer", meta.FINALIZER))

    @property
    def kind(self) -> str:
        return self.reconciler.resource.kind

    def _on_change(self, old: Obj | None, new: Obj | None) -> None:
        if new is None and old is not None:
            ns, name = key_of(old)
            self.metrics.forget(self.kind, ns, name)
            return
        if needs_reconcile(old, new):
            assert new is not None
            self.queue.add(key_of(new))

    def enqueue(self, key: Key) -> None:
        self.queue.add(key)

    async def run(self) -> None:
        """Run workers until the queue shuts down; in-flight reconciles finish first."""
        workers = [asyncio.create_task(self._worker()) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()

    def shutdown(self) -> None:
        self.queue.shutdown()

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except QueueShutDown:
                return
            self.in_flight += 1
            try:
                await self.reconcile_key(key)
            except Exception:
                log.exception("reconcile crashed", extra={"kind": self.kind, "key": "/".join(key)})
                self.queue.add_rate_limited(key)
            finally:
                self.in_flight -= 1
                self.queue.done(key)

    async def reconcile_key(self, key: Key) -> None:
        """One reconcile of the object at `key`: deletion, finalizer, suspend, the steps, Ready, one status patch."""
        cached = self.informer.get(*key)
        if cached is None:
            self.queue.forget(key)
            return
        obj = copy.deepcopy(cached)
        rec = self.reconciler
        res = rec.resource
        ns, name = key
        rid = str(uuid.uuid4())
        olog = object_logger(rec.controller_name, res.group, res.kind, ns, name, rid)
        req = Request(
            obj=obj, state=rec.new_state(), client=self.client, recorder=self.recorder, log=olog, reconcile_id=rid
        )
        metadata = obj["metadata"]
        finalizers: list[str] = list(metadata.get("finalizers") or [])
        suspended = bool((obj.get("spec") or {}).get("suspend"))
        self.metrics.record_suspend(obj)

        static = getattr(rec, "static", None)
        if static is not None and static(obj):  # e.g. an OCI HelmRepository: a data container, left alone
            await self._let_go(req, finalizers)
            self.queue.forget(key)
            return

        if metadata.get("deletionTimestamp"):
            if self.finalizer in finalizers:
                if not suspended:
                    await rec.finalize(req)
                await self._remove_finalizer(obj, finalizers)
                olog.info("finalizer removed, object deleted")
            self.metrics.forget(res.kind, ns, name)
            self.queue.forget(key)
            return

        if self.finalizer not in finalizers:
            await self._add_finalizer(obj, finalizers)

        if suspended:
            olog.info("Reconciliation is suspended for this object")
            self.queue.forget(key)
            return

        start = time.monotonic()
        self.reconciles += 1
        before = copy.deepcopy(obj.get("status") or {})
        progress = Progress(obj, before, patch=functools.partial(self._patch_status, obj), delay=self.progress_delay)
        req.reporter = progress.report
        result = results.Result()
        error: Exception | None = None
        try:
            result = await run_steps(req, rec.steps(), on_step_end=progress.step_ended)
        except results.ReconcileError as exc:
            error = exc
        except ApiError as exc:
            error = results.GenericError(meta.FAILED, str(exc))
        finally:
            await progress.close()
            if req.cleanups:
                await asyncio.to_thread(req.run_cleanups)
        results.settle(obj, rec.condition_table, result=result, error=error)
        conditions.set_last_handled_reconcile_at(obj)
        await self._patch_status(obj, progress.snapshot, obj.get("status") or {})
        await self._emit(req, before, error)

        elapsed = time.monotonic() - start
        self.metrics.record_duration(res.kind, ns, name, elapsed)
        self.metrics.record_conditions(obj)
        decision = results.decide(result, error, interval=rec.interval(obj), retry_interval=rec.retry_interval(obj))
        if isinstance(error, results.WaitingError):
            olog.info("%s", error, extra={"duration": round(elapsed, 3)})
        elif error is not None:
            olog.error("Reconciler error: %s", error, extra={"duration": round(elapsed, 3)})
        else:
            olog.info("reconcile finished", extra={"duration": round(elapsed, 3)})
        self._requeue(key, decision)

    def _requeue(self, key: Key, decision: results.Decision) -> None:
        if decision.forget:
            self.queue.forget(key)
        if decision.rate_limited:
            self.queue.add_rate_limited(key)
        elif decision.requeue_after is not None:
            self.queue.add_after(key, decision.requeue_after)

    async def _let_go(self, req: Request[Any], finalizers: list[str]) -> None:
        """Undo what an earlier reconcile left on an object that is now static: artifacts, finalizer, status."""
        obj = req.obj
        if self.finalizer in finalizers:
            await self.reconciler.finalize(req)
            await self._remove_finalizer(obj, finalizers)
        leftover = {k for k in obj.get("status") or {} if k != "observedGeneration"}  # the CRD defaults that one
        if leftover and not obj["metadata"].get("deletionTimestamp"):
            meta_ = obj["metadata"]
            await self.client.patch(
                self.reconciler.resource, meta_["name"], {"status": None}, meta_.get("namespace"), subresource="status"
            )

    async def _add_finalizer(self, obj: Obj, finalizers: list[str]) -> None:
        meta_ = obj["metadata"]
        patch = {"metadata": {"finalizers": [*finalizers, self.finalizer], "resourceVersion": meta_["resourceVersion"]}}
        updated = await self.client.patch(self.reconciler.resource, meta_["name"], patch, meta_.get("namespace"))
        meta_["finalizers"] = updated["metadata"].get("finalizers")
        meta_["resourceVersion"] = updated["metadata"]["resourceVersion"]

    async def _remove_finalizer(self, obj: Obj, finalizers: list[str]) -> None:
        meta_ = obj["metadata"]
        remaining = [f for f in finalizers if f != self.finalizer]
        patch = {"metadata": {"finalizers": remaining or None}}
        try:
            await self.client.patch(self.reconciler.resource, meta_["name"], patch, meta_.get("namespace"))
        except ApiError as exc:
            if not exc.not_found:
                raise

    async def _patch_status(self, obj: Obj, before: Obj, after: Obj) -> None:
        """Patch the status from `before` (what the server holds) to `after`, as one merge patch of the diff."""
        diff = merge_diff(before, after)
        if not diff:
            return
        meta_ = obj["metadata"]
        try:
            await self.client.patch(
                self.reconciler.resource,
                meta_["name"],
                {"status": diff},
                meta_.get("namespace"),
                subresource="status",
                field_manager=self.reconciler.controller_name,
            )
        except ApiError as exc:
            if not exc.not_found:
                raise

    async def _emit(self, req: Request[Any], before: Obj, error: Exception | None) -> None:
        ready = conditions.get(req.obj, meta.READY)
        if ready is None:
            return
        old = next((c for c in before.get("conditions") or [] if c.get("type") == meta.READY), None)
        changed = old is None or (old.get("status"), old.get("message")) != (ready.get("status"), ready.get("message"))
        if error is not None:
            if changed:  # a repeated failure is not re-announced (Flux's notification rate limit does the same)
                kind = NORMAL if isinstance(error, results.WaitingError) else WARNING
                await self.recorder.emit(req.obj, kind, ready.get("reason", meta.FAILED), ready.get("message", ""))
        elif changed and ready.get("status") == "True":
            await self.recorder.emit(req.obj, NORMAL, ready.get("reason", meta.SUCCEEDED), ready.get("message", ""))


def merge_diff(before: Obj, after: Obj) -> Obj:
    """A JSON merge patch turning `before` into `after` (lists replaced whole, removed keys set to null)."""
    patch: Obj = {}
    for k, v in after.items():
        old = before.get(k)
        if isinstance(v, dict) and isinstance(old, dict):
            sub = merge_diff(old, v)
            if sub:
                patch[k] = sub
        elif old != v or k not in before:
            patch[k] = v
    for k in before:
        if k not in after:
            patch[k] = None
    return patch
