"""Kubernetes Events for reconciled objects, as Flux's event recorder writes them.

Events go to the API server as core/v1 Events (Normal or Warning, reason = condition reason) and, when an
events address is configured, are also POSTed as JSON to the notification controller.

Like client-go's event broadcaster, recording never blocks a reconcile: `emit` queues the Event and returns,
the Events of one object are written in order, and the recorder's own client (and so its own QPS budget)
keeps Events from competing with the reconcilers' requests. `flush` waits for what is queued.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp

from gotk.kube.client import Client
from gotk.kube.resources import EVENTS

Obj = dict[str, Any]
NORMAL: Final = "Normal"  # the two Event types of the core API
WARNING: Final = "Warning"
MAX_MESSAGE = 39000

log = logging.getLogger("gotk.events")


class EventRecorder:
    """Writes Events about objects on behalf of one controller (`reportingController`)."""

    def __init__(self, client: Client, controller: str, *, events_addr: str | None = None) -> None:
        self.client = client
        self.controller = controller
        self.instance = f"{controller}-{os.getpid()}"
        self.events_addr = events_addr
        self._tasks: set[asyncio.Task[None]] = set()
        self._last: dict[tuple[str, str, str], asyncio.Task[None]] = {}

    async def emit(
        self,
        obj: Obj,
        event_type: str,
        reason: str,
        message: str,
        *,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Queue one Event; failures are logged, never raised (events are best effort)."""
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = message[:MAX_MESSAGE]
        annotations = {k: v for k, v in (metadata or {}).items()}
        event: Obj = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta.get('name')}.{time.time_ns():x}",
                "namespace": namespace,
                "annotations": annotations,
            },
            "involvedObject": {
                "apiVersion": obj.get("apiVersion"),
                "kind": obj.get("kind"),
                "name": meta.get("name"),
                "namespace": namespace,
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": reason,
            "message": message,
            "type": event_type,
            "source": {"component": self.controller},
            "reportingComponent": self.controller,
            "reportingInstance": self.instance,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        key = (str(obj.get("kind")), namespace, str(meta.get("name")))
        task = asyncio.create_task(self._send(self._last.get(key), event, obj, annotations, now))
        self._last[key] = task
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if self._last.get(key) is t:
                del self._last[key]

        task.add_done_callback(done)

    def pending(self) -> int:
        """How many Events are queued and not yet written."""
        return len(self._tasks)

    async def flush(self, timeout: float = 10.0) -> None:
        """Wait (up to `timeout` seconds) until every queued Event is written."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def _send(
        self, previous: asyncio.Task[None] | None, event: Obj, obj: Obj, annotations: dict[str, str], now: str
    ) -> None:
        if previous is not None:
            await asyncio.wait({previous})
        try:
            await self.client.create(EVENTS, event, event["metadata"]["namespace"])
        except Exception as exc:  # best effort, but never silent
            log.warning("failed to record event: %s", exc)
        if self.events_addr:
            await self._forward(obj, event["type"], event["reason"], event["message"], annotations, now)

    async def _forward(
        self, obj: Obj, event_type: str, reason: str, message: str, metadata: dict[str, str], now: str
    ) -> None:
        meta = obj.get("metadata") or {}
        payload = {
            "involvedObject": {
                "apiVersion": obj.get("apiVersion"),
                "kind": obj.get("kind"),
                "name": meta.get("name"),
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid"),
            },
            "severity": "error" if event_type == WARNING else "info",
            "timestamp": now,
            "message": message,
            "reason": reason,
            "metadata": metadata,
            "reportingController": self.controller,
            "reportingInstance": self.instance,
        }
        try:
            async with aiohttp.ClientSession() as session:
                async with session.post(
                    str(self.events_addr), json=payload, timeout=aiohttp.ClientTimeout(total=5)
                ) as resp:
                    if resp.status >= 400 and resp.status != 429:
                        log.warning("event forward got HTTP %s", resp.status)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("failed to forward event: %s", exc)
