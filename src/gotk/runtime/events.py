"""Kubernetes Events for reconciled objects, as Flux's event recorder writes them.

Events go to the API server as core/v1 Events (Normal or Warning, reason = condition reason) and, when an
events address is configured, are also POSTed as JSON to the notification controller.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp

from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import EVENTS

Obj = dict[str, Any]
NORMAL = "Normal"
WARNING = "Warning"
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

    async def emit(
        self,
        obj: Obj,
        event_type: str,
        reason: str,
        message: str,
        *,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Record one Event; failures are logged, never raised (events are best effort)."""
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
        try:
            await self.client.create(EVENTS, event, namespace)
        except ApiError as exc:
            log.warning("failed to record event: %s", exc)
        if self.events_addr:
            task = asyncio.create_task(self._forward(obj, event_type, reason, message, annotations, now))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

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
