"""Leader election on a coordination.k8s.io/v1 Lease, one Lease per controller, as client-go's LeaseLock does.

`LeaderElector.acquire()` blocks until this process holds the Lease; `hold()` renews it and calls back when
leadership is lost; `release()` hands it over on a graceful shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import LEASES

log = logging.getLogger("gotk.leader")


def _now() -> datetime:
    return datetime.now(UTC)


def _fmt(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    value = value.replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class LeaderElector:
    """Holds one named Lease in one namespace for this process."""

    def __init__(
        self,
        client: Client,
        *,
        namespace: str,
        name: str,
        identity: str | None = None,
        lease_duration: float = 35.0,
        renew_deadline: float = 30.0,
        retry_period: float = 5.0,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity or f"{socket.gethostname()}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.is_leader = False

    async def acquire(self) -> None:
        """Wait until this process holds the Lease."""
        announced = False
        while not await self._try_acquire_or_renew():
            if not announced:
                log.info("waiting for leader election lease %s/%s", self.namespace, self.name)
                announced = True
            await asyncio.sleep(self.retry_period)
        self.is_leader = True
        log.info("successfully acquired lease %s/%s", self.namespace, self.name)

    async def hold(self, on_lost: Callable[[], None]) -> None:
        """Renew the Lease every retry period; call `on_lost` once renewal fails past the renew deadline."""
        last_renew = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(self.retry_period)
            try:
                ok = await self._try_acquire_or_renew()
            except ApiError as exc:
                log.warning("failed to renew lease %s/%s: %s", self.namespace, self.name, exc)
                ok = False
            now = asyncio.get_running_loop().time()
            if ok:
                last_renew = now
            elif now - last_renew > self.renew_deadline:
                self.is_leader = False
                log.error("leader election lost for %s/%s", self.namespace, self.name)
                on_lost()
                return

    async def release(self) -> None:
        if not self.is_leader:
            return
        self.is_leader = False
        try:
            lease = await self.client.get_or_none(LEASES, self.name, self.namespace)
            if lease and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                lease["spec"]["holderIdentity"] = None
                lease["spec"]["leaseDurationSeconds"] = 1
                lease["spec"]["renewTime"] = _fmt(_now())
                await self.client.replace(LEASES, lease, self.namespace)
        except ApiError as exc:
            log.warning("failed to release lease %s/%s: %s", self.namespace, self.name, exc)

    async def _try_acquire_or_renew(self) -> bool:
        now = _now()
        lease = await self.client.get_or_none(LEASES, self.name, self.namespace)
        spec: dict[str, Any] = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.lease_duration),
            "renewTime": _fmt(now),
        }
        if lease is None:
            spec["acquireTime"] = _fmt(now)
            spec["leaseTransitions"] = 0
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name},
                "spec": spec,
            }
            try:
                await self.client.create(LEASES, body, self.namespace)
                return True
            except ApiError as exc:
                if exc.conflict:
                    return False
                raise
        current = lease.get("spec") or {}
        holder = current.get("holderIdentity")
        if holder and holder != self.identity:
            renewed = _parse(current.get("renewTime")) or _parse(current.get("acquireTime"))
            duration = float(current.get("leaseDurationSeconds") or self.lease_duration)
            if renewed is not None and renewed + timedelta(seconds=duration) > now:
                return False
        if holder == self.identity:
            spec["acquireTime"] = current.get("acquireTime") or _fmt(now)
            spec["leaseTransitions"] = current.get("leaseTransitions") or 0
        else:
            spec["acquireTime"] = _fmt(now)
            spec["leaseTransitions"] = int(current.get("leaseTransitions") or 0) + 1
        lease["spec"] = spec
        try:
            await self.client.replace(LEASES, lease, self.namespace)
            return True
        except ApiError as exc:
            if exc.conflict:
                return False
            raise
