"""The event server: controllers POST their events here (`--events-addr`); each event goes to the Providers of
the Alerts that select it. Alerts and Providers (v1beta3) are static objects read from watch caches.

A duplicate (same object, message and metadata) within `--rate-limit-interval` is answered 429 and not
forwarded again. Delivery runs in the background, one task per Alert; a failure is logged with the Alert and
Provider names and never blocks the controller that sent the event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from gotk.gocompat import durations
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.notification import providers, routing
from gotk.runtime.informer import Informer
from gotk.runtime.secrets import SecretError, optional_secret

Obj = dict[str, Any]
MAX_BODY = 1 << 20
log = logging.getLogger("gotk.notification")


class Dispatcher:
    """Routes events to Providers; `sent` counts deliveries (for tests and metrics)."""

    def __init__(
        self,
        client: Client,
        alerts: Informer,
        providers_cache: Informer,
        *,
        rate_limit_interval: float = 300.0,
        no_cross_namespace_refs: bool = False,
    ) -> None:
        self.client = client
        self.alerts = alerts
        self.providers = providers_cache
        self.rate_limit_interval = rate_limit_interval
        self.no_cross_namespace_refs = no_cross_namespace_refs
        self._seen: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.failed = 0

    def duplicate(self, event: Mapping[str, Any]) -> bool:
        now = time.monotonic()
        if len(self._seen) > 10_000:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.rate_limit_interval}
        key = routing.rate_limit_key(event)
        last = self._seen.get(key)
        if last is not None and now - last < self.rate_limit_interval:
            return True
        self._seen[key] = now
        return False

    async def _involved(self, event: Mapping[str, Any]) -> Obj | None:
        involved = event.get("involvedObject") or {}
        try:
            res = await self.client.resource_for(str(involved.get("apiVersion") or ""), str(involved.get("kind")))
            return await self.client.get_or_none(res, str(involved.get("name")), str(involved.get("namespace")))
        except (ApiError, LookupError, ValueError):
            return None

    async def route(self, event: Obj) -> list[str]:
        """Start deliveries for every matching Alert; returns `namespace/alert` names."""
        involved: Obj | None = None
        fetched = False

        async def fetch() -> Obj | None:
            nonlocal involved, fetched
            if not fetched:
                involved, fetched = await self._involved(event), True
            return involved

        # labels are needed only by `*` sources with matchLabels: fetch the object once, up front, if any
        needs_labels = any(
            s.get("name") == "*" and s.get("matchLabels")
            for a in self.alerts.list()
            for s in (a.get("spec") or {}).get("eventSources") or []
        )
        obj = await fetch() if needs_labels else None
        labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
        matched = [
            a
            for a in self.alerts.list()
            if routing.alert_matches(a, event, lambda: labels, no_cross_namespace_refs=self.no_cross_namespace_refs)
        ]
        names = []
        for alert in matched:
            meta = alert["metadata"]
            annotations = ((await fetch()) or {}).get("metadata", {}).get("annotations") or {}
            outgoing = routing.for_alert(event, alert, annotations)
            task = asyncio.create_task(self._deliver(alert, outgoing))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            names.append(f"{meta.get('namespace')}/{meta.get('name')}")
        return names

    async def _deliver(self, alert: Obj, event: Obj) -> None:
        ns = alert["metadata"]["namespace"]
        name = ((alert.get("spec") or {}).get("providerRef") or {}).get("name", "")
        where = f"alert '{ns}/{alert['metadata']['name']}' provider '{ns}/{name}'"
        provider = self.providers.get(ns, name)
        if provider is None:
            log.error("%s: provider not found", where)
            self.failed += 1
            return
        spec = provider.get("spec") or {}
        if spec.get("suspend"):
            return
        try:
            secret = await self._secret(ns, spec.get("secretRef"))
            timeout = _seconds(spec.get("timeout"), 15.0)
            target = providers.target_from(spec, secret, timeout=timeout)
            await providers.send(target, event)
            self.sent += 1
        except providers.NotifyError as exc:
            self.failed += 1
            log.error("%s: failed to send notification: %s", where, exc)

    async def _secret(self, namespace: str, ref: Mapping[str, str] | None) -> dict[str, bytes] | None:
        try:
            return await optional_secret(self.client, namespace, dict(ref) if ref else None, "spec.secretRef")
        except SecretError as exc:
            raise providers.NotifyError(str(exc)) from None

    async def drain(self, timeout: float = 10.0) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def handle(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            return web.Response(status=405)
        raw = await request.content.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            return web.Response(status=413, text="event too large")
        try:
            event = routing.parse_event(json.loads(raw))
        except (ValueError, routing.EventError) as exc:
            return web.Response(status=400, text=f"invalid event: {exc}")
        if self.duplicate(event):
            return web.Response(status=429, text="duplicate event within the rate limit interval")
        await self.route(event)
        return web.Response(status=202)


def _seconds(value: Any, default: float) -> float:
    try:
        return durations.parse(str(value)) if value else default
    except ValueError:
        return default
