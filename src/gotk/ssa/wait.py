"""Health checks from the watch cache: `HealthWatcher.wait(refs)` returns once every object is Current.

The watcher starts one cluster-wide `Informer` per resource on first use and shares it with every caller.
An informer event wakes only the waiters that reference the changed object, so nothing polls. Fail-fast,
the early end when every object is Current or Failed, and the HealthCheckFailed text follow fluxcd/pkg
ssa `WaitForSetWithContext`. The kustomize and helm reconcilers call it after applying.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gotk.api import meta
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import Resource
from gotk.runtime.informer import Informer, Key, key_of
from gotk.ssa.status import (
    CURRENT,
    FAILED,
    NOT_FOUND,
    UNKNOWN,
    ObjStatus,
    check_from_spec,
    status_of,
    validate_checks,
)

__all__ = ["HealthResult", "HealthWatcher", "ObjRef", "format_failure"]

log = logging.getLogger("gotk.ssa.wait")

InformerFactory = Callable[[Client, Resource], Informer]


@dataclass(frozen=True, order=True)
class ObjRef:
    """An object to check, by apiVersion, kind, namespace ("" when cluster-scoped) and name."""

    api_version: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjRef:
        metadata = obj.get("metadata") or {}
        return cls(
            str(obj.get("apiVersion") or ""),
            str(obj.get("kind") or ""),
            str(metadata.get("namespace") or ""),
            str(metadata.get("name") or ""),
        )

    def __str__(self) -> str:
        """Flux's object id: `Kind/namespace/name`, or `Kind/name` without a namespace."""
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class HealthResult:
    """The outcome of one wait. `statuses` holds the last status of every object, in the order asked."""

    healthy: bool
    failed: list[tuple[ObjRef, str]]
    in_progress: list[tuple[ObjRef, str]]
    timed_out: bool
    statuses: dict[ObjRef, ObjStatus] = field(default_factory=dict)

    def message(self) -> str:
        """Flux's HealthCheckFailed text (see `format_failure`); empty when healthy."""
        return format_failure(self)


def format_failure(result: HealthResult) -> str:
    """Flux's health check error: `timeout waiting for: [Deployment/ns/app status: 'InProgress']`.

    On an early end (fail-fast, or only Current and Failed left) it reads `failed early due to stalled
    resources: [...]` and names the Failed objects only. Empty when the result is healthy.
    """
    if result.healthy:
        return ""
    entries = []
    for ref, st in result.statuses.items():
        if st.status == FAILED or (result.timed_out and st.status != CURRENT):
            entry = f"{ref} status: '{st.status}'"
            if st.status == UNKNOWN and st.message:
                entry += f": {st.message}"
            entries.append(entry)
    prefix = "timeout waiting for" if result.timed_out else "failed early due to stalled resources"
    return f"{prefix}: [{', '.join(entries)}]"


class _Waiter:
    """One call to `wait`; informer handlers set its event when a referenced object changes."""

    def __init__(self) -> None:
        self.event = asyncio.Event()


class _Cache:
    """One shared informer plus the waiters interested in each of its objects."""

    def __init__(self, informer: Informer) -> None:
        self.informer = informer
        self.interest: dict[Key, set[_Waiter]] = {}
        self.error: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        informer.add_handler(self._changed)

    def start(self) -> None:
        name = self.informer.resource.plural
        run = asyncio.create_task(self.informer.run(), name=f"health-informer-{name}")
        run.add_done_callback(self._stopped)
        self._tasks = [run, asyncio.create_task(self._announce_sync(), name=f"health-synced-{name}")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def subscribe(self, key: Key, waiter: _Waiter) -> None:
        self.interest.setdefault(key, set()).add(waiter)

    def unsubscribe(self, key: Key, waiter: _Waiter) -> None:
        waiters = self.interest.get(key)
        if waiters is not None:
            waiters.discard(waiter)
            if not waiters:
                del self.interest[key]

    def _changed(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        obj = new if new is not None else old
        if obj is None:
            return
        for waiter in self.interest.get(key_of(obj), ()):
            waiter.event.set()

    def _wake_all(self) -> None:
        for waiters in self.interest.values():
            for waiter in waiters:
                waiter.event.set()

    async def _announce_sync(self) -> None:
        await self.informer.synced.wait()
        self._wake_all()  # objects that do not exist produce no event, yet are now known to be NotFound

    def _stopped(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        self.error = f"the watch on {self.informer.resource.plural} stopped: {exc!r}"
        log.error("health informer ended: %s", self.error)
        self._wake_all()


class HealthWatcher:
    """Object health from shared watch caches, for any number of concurrent waits."""

    def __init__(self, client: Client, *, informer_factory: InformerFactory | None = None) -> None:
        self._client = client
        self._factory: InformerFactory = informer_factory or (lambda c, r: Informer(c, r))
        self._caches: dict[Resource, _Cache] = {}

    @property
    def resources(self) -> list[Resource]:
        """The resources watched so far (one informer each)."""
        return list(self._caches)

    async def stop(self) -> None:
        """Cancel every informer; a later `wait` starts them again."""
        caches, self._caches = list(self._caches.values()), {}
        await asyncio.gather(*(c.stop() for c in caches))

    async def wait(
        self,
        refs: Iterable[ObjRef],
        *,
        timeout: float,
        fail_fast: bool = True,
        custom: Sequence[meta.CustomHealthCheck | Mapping[str, Any]] = (),
        jobs_with_ttl: Collection[ObjRef] = (),
    ) -> HealthResult:
        """Wait until every object is Current, one is Failed (with `fail_fast`), or `timeout` seconds pass.

        A missing object is NotFound and keeps the wait going, except a Job in `jobs_with_ttl` (deleted by
        its TTL after finishing), which counts as Current. `custom` are `healthCheckExprs` entries (typed, or
        as spec dicts); invalid ones raise ValueError before anything is watched.
        """
        checks = [c if isinstance(c, meta.CustomHealthCheck) else check_from_spec(c) for c in custom]
        validate_checks(checks)
        wanted = list(dict.fromkeys(refs))
        if not wanted:
            return HealthResult(True, [], [], False, {})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waiter = _Waiter()
        caches = await self._resolve(wanted, deadline)
        keys = {ref: _key(ref, caches[ref]) for ref in wanted}
        for ref, cache in caches.items():
            if isinstance(cache, _Cache):
                cache.subscribe(keys[ref], waiter)
        ttl = frozenset(jobs_with_ttl)
        try:
            while True:
                waiter.event.clear()  # no await until the next wait, so no change can slip in between
                statuses = {ref: _evaluate(ref, caches[ref], keys[ref], checks, ttl) for ref in wanted}
                done = _decide(statuses.values(), fail_fast=fail_fast)
                remaining = deadline - loop.time()
                if done or remaining <= 0:
                    return _result(statuses, timed_out=not done)
                rechecks = [s.recheck_after for s in statuses.values() if s.recheck_after is not None]
                pause = min([remaining, *rechecks])
                try:
                    await asyncio.wait_for(waiter.event.wait(), pause)
                except TimeoutError:
                    pass
        finally:
            for ref, cache in caches.items():
                if isinstance(cache, _Cache):
                    cache.unsubscribe(keys[ref], waiter)

    async def _resolve(self, refs: list[ObjRef], deadline: float) -> dict[ObjRef, _Cache | str]:
        """Map each object to its shared cache, or to the reason its kind cannot be watched."""
        by_kind: dict[tuple[str, str], _Cache | str] = {}
        loop = asyncio.get_running_loop()
        for api_version, kind in dict.fromkeys((r.api_version, r.kind) for r in refs):
            try:
                resource = await asyncio.wait_for(
                    self._client.resource_for(api_version, kind), max(deadline - loop.time(), 0.001)
                )
            except ApiError as exc:
                by_kind[(api_version, kind)] = str(exc)
                continue
            except TimeoutError:
                by_kind[(api_version, kind)] = f"discovery of {kind} in {api_version} timed out"
                continue
            by_kind[(api_version, kind)] = self._cache(resource)
        return {ref: by_kind[(ref.api_version, ref.kind)] for ref in refs}

    def _cache(self, resource: Resource) -> _Cache:
        cache = self._caches.get(resource)
        if cache is None or cache.error is not None:
            cache = _Cache(self._factory(self._client, resource))
            self._caches[resource] = cache
            cache.start()
        return cache


def _key(ref: ObjRef, cache: _Cache | str) -> Key:
    namespaced = isinstance(cache, _Cache) and cache.informer.resource.namespaced
    return (ref.namespace if namespaced else "", ref.name)


def _evaluate(
    ref: ObjRef,
    cache: _Cache | str,
    key: Key,
    custom: Sequence[meta.CustomHealthCheck],
    jobs_with_ttl: frozenset[ObjRef],
) -> ObjStatus:
    if isinstance(cache, str):
        return ObjStatus(UNKNOWN, cache)
    if cache.error is not None:
        return ObjStatus(UNKNOWN, cache.error)
    if not cache.informer.synced.is_set():
        return ObjStatus(UNKNOWN, f"the watch cache of {cache.informer.resource.plural} is not synced yet")
    obj = cache.informer.get(*key)
    if obj is None:
        if ref in jobs_with_ttl:
            return ObjStatus(CURRENT, "Job deleted after completion (ttlSecondsAfterFinished)")
        return ObjStatus(NOT_FOUND, "object not found")
    return status_of(obj, custom)


def _decide(statuses: Iterable[ObjStatus], *, fail_fast: bool) -> bool:
    """True when waiting longer cannot change the outcome: all Current, a Failed one, or only Current/Failed."""
    kinds = {s.status for s in statuses}
    if kinds <= {CURRENT}:
        return True
    if fail_fast and FAILED in kinds:
        return True
    return kinds <= {CURRENT, FAILED}


def _result(statuses: dict[ObjRef, ObjStatus], *, timed_out: bool) -> HealthResult:
    failed = [(ref, s.message) for ref, s in statuses.items() if s.status == FAILED]
    pending = [(ref, s.message) for ref, s in statuses.items() if s.status not in (CURRENT, FAILED)]
    healthy = not failed and not pending
    return HealthResult(healthy, failed, pending, timed_out and not healthy, statuses)
