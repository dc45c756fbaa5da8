"""Progress of a long step, written while it runs: Reconciling=True and Ready=Unknown with what the step does.

A step calls `Request.progress(message)` as it starts something long (a build, an apply, a health wait, a Helm
action). `Progress` waits `delay` seconds and, if the step is still running, patches the status: the last
status written, with Reconciling=True and Ready=Unknown carrying `message`, through the same snapshot diff as
the final patch. A step that ends within `delay` costs no request. Only the conditions change in a progress
patch: whatever else the step has changed so far is written once, at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from gotk.api import meta
from gotk.runtime import conditions

Obj = dict[str, Any]
log = logging.getLogger("gotk.controller")


class Progress:
    """One reconcile's progress reporter; `snapshot` is the status as last written to the API server."""

    def __init__(self, obj: Obj, snapshot: Obj, *, patch: Callable[[Obj, Obj], Awaitable[None]], delay: float) -> None:
        self._obj = obj
        self.snapshot = snapshot
        self._patch = patch
        self._delay = delay
        self._timer: asyncio.Task[None] | None = None
        self._writing: asyncio.Task[None] | None = None

    def report(self, message: str) -> None:
        """Write `message` as progress if the current step is still running after the delay."""
        self.step_ended()
        self._timer = asyncio.get_running_loop().create_task(self._after_delay(message))

    def step_ended(self) -> None:
        """The step is over: a report that has not been written yet never will be."""
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._timer = None

    async def close(self) -> None:
        """Stop reporting; wait for a progress patch already on its way, so the final diff starts from it."""
        self.step_ended()
        if self._writing is not None:
            with contextlib.suppress(Exception):
                await self._writing
            self._writing = None

    def view(self, message: str) -> Obj:
        """The status a progress patch writes: the last one written, with Reconciling and Ready in progress."""
        shown: Obj = {"metadata": self._obj.get("metadata") or {}, "status": copy.deepcopy(self.snapshot)}
        conditions.mark_reconciling(shown, meta.PROGRESSING, message)
        conditions.mark_unknown(shown, meta.READY, meta.PROGRESSING, message)
        status: Obj = shown["status"]
        return status

    async def _after_delay(self, message: str) -> None:
        await asyncio.sleep(self._delay)
        if self._writing is not None:  # the previous report is still being written: this one follows it
            with contextlib.suppress(Exception):
                await self._writing
        after = self.view(message)
        # shielded: once sent, a patch must finish, or the snapshot would no longer say what the server holds
        self._writing = asyncio.ensure_future(self._write(after))
        await asyncio.shield(self._writing)

    async def _write(self, after: Obj) -> None:
        try:
            await self._patch(self.snapshot, after)
        except Exception as exc:  # progress is informative: a failure to write it never fails the reconcile
            log.warning("progress patch failed: %s", exc)
        # even after a failure (it may have been applied): the final diff then rewrites the conditions whole
        self.snapshot = after
