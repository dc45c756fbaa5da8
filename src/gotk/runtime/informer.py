"""The watch cache: list then watch one resource, keep every object in memory, and tell handlers what changed.

Resumes a broken watch from the last resourceVersion, relists on `410 Gone`, and backs off while the API
server is away. A relist emits only real differences, so a reconnect never causes duplicate work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import Resource

Obj = dict[str, Any]
Key = tuple[str, str]
# handler(old, new): old is None on add, new is None on delete
Handler = Callable[[Obj | None, Obj | None], None]

log = logging.getLogger("gotk.informer")


def key_of(obj: Obj) -> Key:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


class Informer:
    """An in-memory, always-current copy of one resource (optionally filtered by namespace and labels)."""

    def __init__(
        self,
        client: Client,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        watch_timeout: int = 300,
        max_backoff: float = 30.0,
    ) -> None:
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.watch_timeout = watch_timeout
        self.max_backoff = max_backoff
        self._store: dict[Key, Obj] = {}
        self._handlers: list[Handler] = []
        self._rv = ""
        self.synced = asyncio.Event()
        self.relists = 0
        self.reconnects = 0

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def get(self, namespace: str, name: str) -> Obj | None:
        return self._store.get((namespace, name))

    def list(self, namespace: str | None = None) -> list[Obj]:
        if namespace is None:
            return list(self._store.values())
        return [o for (ns, _), o in self._store.items() if ns == namespace]

    def __len__(self) -> int:
        return len(self._store)

    async def wait_synced(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self.synced.wait(), timeout)

    async def run(self) -> None:
        """List and watch until cancelled."""
        backoff = 0.5
        need_list = True
        while True:
            try:
                if need_list:
                    await self._relist()
                    need_list = False
                await self._watch()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except ApiError as exc:
                if exc.gone:
                    log.info("watch expired, relisting", extra={"resource": self.resource.plural})
                    need_list = True
                    continue
                self.reconnects += 1
                log.warning(
                    "watch failed: %s; retrying in %.1fs",
                    exc,
                    backoff,
                    extra={"resource": self.resource.plural},
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _relist(self) -> None:
        page = await self.client.list(self.resource, self.namespace, label_selector=self.label_selector)
        self.relists += 1
        fresh = {key_of(_slim(o)): o for o in page["items"]}
        old_store = self._store
        self._store = fresh
        self._rv = page["metadata"]["resourceVersion"]
        for key, obj in fresh.items():
            old = old_store.get(key)
            if old is None:
                self._emit(None, obj)
            elif _rv(old) != _rv(obj):
                self._emit(old, obj)
        for key, old in old_store.items():
            if key not in fresh:
                self._emit(old, None)
        self.synced.set()

    async def _watch(self) -> None:
        async for event in self.client.watch(
            self.resource,
            self.namespace,
            resource_version=self._rv,
            label_selector=self.label_selector,
            timeout_seconds=self.watch_timeout,
        ):
            kind = event.get("type")
            obj: Obj = event.get("object") or {}
            rv = _rv(obj)
            if kind == "BOOKMARK":
                self._rv = rv or self._rv
                continue
            obj.setdefault("apiVersion", self.resource.api_version)
            obj.setdefault("kind", self.resource.kind)
            _slim(obj)
            key = key_of(obj)
            old = self._store.get(key)
            if kind == "DELETED":
                self._store.pop(key, None)
                self._emit(old or obj, None)
            elif kind in ("ADDED", "MODIFIED"):
                self._store[key] = obj
                if old is None or _rv(old) != rv:
                    self._emit(old, obj)
            if rv:
                self._rv = rv

    def _emit(self, old: Obj | None, new: Obj | None) -> None:
        for handler in self._handlers:
            try:
                handler(old, new)
            except Exception:
                log.exception("informer handler failed")


def _slim(obj: Obj) -> Obj:
    """Drop managedFields: nothing reads them from the cache, and they are often half an object's size."""
    meta = obj.get("metadata")
    if meta:
        meta.pop("managedFields", None)
    return obj


def _rv(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")
