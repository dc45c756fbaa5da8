"""Waiting for Flux objects: request a reconcile, poll until the controller handled it, judge readiness.

`compute` is a small kstatus for Flux objects (generation observed, Reconciling/Stalled, Ready).
`poll` re-reads an object every half second until a predicate holds, showing a spinner on a terminal.
Used by `flux reconcile` and `flux resume`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from gotk.cli import kinds_cli
from gotk.cli.kinds_cli import Obj, dig, find_condition, text
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.kube.errors import ApiError, ResourceNotFound
from gotk.kube.resources import Resource

POLL_INTERVAL = 0.5
IN_PROGRESS, CURRENT, FAILED = "InProgress", "Current", "Failed"


async def fetch(client: Client, res: Resource, name: str, namespace: str) -> Obj:
    """Get one object; a kind the server does not serve raises ResourceNotFound, not a bare 404."""
    try:
        return await client.get(res, name, namespace)
    except ApiError as exc:
        if exc.not_found and dig(exc.body, "details", "name") != name:
            raise ResourceNotFound(res.api_version, res.kind) from exc
        raise


async def list_objects(
    client: Client, res: Resource, namespace: str | None, *, name: str | None = None, label_selector: str | None = None
) -> list[Obj]:
    """List objects (one name via a field selector); a kind the server does not serve raises ResourceNotFound."""
    try:
        listed = await client.list(
            res,
            namespace,
            label_selector=label_selector,
            field_selector=f"metadata.name={name}" if name else None,
        )
    except ApiError as exc:
        if exc.not_found:
            raise ResourceNotFound(res.api_version, res.kind) from exc
        raise
    items: list[Obj] = listed["items"]
    return items


def compute(obj: Obj) -> tuple[str, str]:
    """kstatus-like status of a Flux object: (InProgress|Current|Failed, message).

    In progress while deleting, while status.observedGeneration lags metadata.generation, while
    Reconciling=True or Ready=Unknown; failed when Stalled=True; current otherwise.
    """
    if dig(obj, "metadata", "deletionTimestamp"):
        return IN_PROGRESS, "Resource scheduled for deletion"
    observed = dig(obj, "status", "observedGeneration")
    generation = dig(obj, "metadata", "generation")
    if isinstance(observed, int) and isinstance(generation, int) and observed != generation:
        return IN_PROGRESS, f"{kind_of(obj)} generation is {generation}, but latest observed generation is {observed}"
    reconciling = find_condition(obj, "Reconciling")
    if reconciling is not None and reconciling.get("status") == "True":
        return IN_PROGRESS, text(reconciling.get("message"))
    stalled = find_condition(obj, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return FAILED, text(stalled.get("message"))
    ready = find_condition(obj, "Ready")
    if ready is not None and ready.get("status") == "Unknown":
        return IN_PROGRESS, text(ready.get("message"))
    return CURRENT, "Resource is current"


def kind_of(obj: Obj) -> str:
    return text(obj.get("kind")) or "Resource"


def last_handled(obj: Obj) -> str:
    return text(dig(obj, "status", "lastHandledReconcileAt"))


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def request_handled(obj: Obj, token: str) -> bool:
    """The controller acted on our request: lastHandledReconcileAt is our token or a later request."""
    handled = last_handled(obj)
    if not handled:
        return False
    if handled == token:
        return True
    mine, theirs = _parse_time(token), _parse_time(handled)
    return mine is not None and theirs is not None and theirs > mine


def generation_ready(obj: Obj, *, status_generation: bool = True) -> bool:
    """Ready is reported for the latest generation (flux's isObjectReady for dynamic objects).

    Without `status_generation` (kinds whose status has no observedGeneration, the ArtifactGenerator) only the
    Ready condition's observedGeneration counts."""
    observed = dig(obj, "status", "observedGeneration")
    generation = dig(obj, "metadata", "generation")
    ready = find_condition(obj, "Ready")
    if not status_generation:
        return ready is not None and ready.get("observedGeneration") == generation
    if not isinstance(observed, int) or observed < 1:
        return False
    if ready is None:
        return False
    cond_generation = ready.get("observedGeneration")
    if isinstance(cond_generation, int) and cond_generation != 0:
        return bool(cond_generation == generation)
    return bool(observed == generation)


def settled(obj: Obj) -> bool:
    """Nothing left to wait for; a Stalled object raises its message."""
    status, message = compute(obj)
    if status == FAILED:
        raise CommandError(message)
    return status == CURRENT


async def request_reconcile(
    client: Client,
    res: Resource,
    name: str,
    namespace: str,
    token: str,
    *,
    extra: dict[str, Any] | None = None,
    also: tuple[str, ...] = (),
) -> Obj:
    """Set reconcile.fluxcd.io/requestedAt (and any `also` annotations) to `token` with one merge patch."""
    annotations = {key: token for key in (kinds_cli.REQUESTED_AT, *also)}
    patch: dict[str, Any] = {"metadata": {"annotations": annotations}}
    for key, value in (extra or {}).items():
        patch[key] = value
    return await client.patch(res, name, patch, namespace)


async def poll(
    fetch: Callable[[], Awaitable[Obj]],
    done: Callable[[Obj], bool],
    *,
    deadline: float,
    what: str,
) -> Obj:
    """Fetch every POLL_INTERVAL seconds until `done(obj)`; past `deadline` (monotonic) it is a timeout."""
    async with spinner():
        while True:
            obj = await fetch()
            if done(obj):
                return obj
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CommandError(f"timeout waiting for {what}: context deadline exceeded")
            await asyncio.sleep(min(POLL_INTERVAL, remaining))


_spinning = False


@contextlib.asynccontextmanager
async def spinner() -> AsyncIterator[None]:
    """A spinner on stderr while waiting, only when stderr is a terminal (one at a time)."""
    global _spinning
    if _spinning or not sys.stderr.isatty():
        yield
        return
    _spinning = True

    async def spin() -> None:
        frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
        i = 0
        while True:
            sys.stderr.write(f"\r{frames[i % len(frames)]} ")
            sys.stderr.flush()
            i += 1
            await asyncio.sleep(0.1)

    task = asyncio.create_task(spin())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()
        _spinning = False
