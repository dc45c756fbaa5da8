"""What a reconciler is: an ordered list of named steps over one object and a typed state, plus a finalizer step.

`Request[S]` carries the working copy of the object, the kind's step state `S` (one small dataclass per kind:
what its steps hand on to each other) and the tools a step may use. `run_steps` runs the steps in order, stops
at the first error or explicit requeue, and returns the combined `Result`. The controller
(`gotk.runtime.controller`) summarizes conditions and patches the status once afterwards; a long step may
also report its progress (`Request.progress`), which the controller writes as Reconciling=True and
Ready=Unknown while the step still runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from gotk.kube.client import Client
from gotk.kube.resources import Resource
from gotk.runtime import conditions
from gotk.runtime.events import EventRecorder
from gotk.runtime.results import Result

Obj = dict[str, Any]
S = TypeVar("S")


def _no_progress(message: str) -> None:
    """The default progress reporter: nothing is written (unit tests, finalizers)."""


@dataclass
class Request(Generic[S]):
    """One reconcile of one object: `obj` is a working copy whose status the steps change; `state` is what
    the kind's steps hand on to each other (a fresh one per reconcile)."""

    obj: Obj
    state: S
    client: Client
    recorder: EventRecorder
    log: logging.LoggerAdapter[logging.Logger]
    reconcile_id: str
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    reporter: Callable[[str], None] = _no_progress

    def defer(self, fn: Callable[[], None]) -> None:
        """Run `fn` after the reconcile, whatever its outcome (temporary directories and the like)."""
        self.cleanups.append(fn)

    def progress(self, message: str) -> None:
        """Say what a long step is doing: shown as Reconciling=True and Ready=Unknown while it runs."""
        self.reporter(message)

    def run_cleanups(self) -> None:
        """Run the deferred clean-ups, newest first; a failing one is logged and the rest still run."""
        while self.cleanups:
            fn = self.cleanups.pop()
            try:
                fn()
            except Exception:
                self.log.exception("cleanup failed")

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"].get("namespace") or "")

    @property
    def generation(self) -> int:
        return int(self.obj["metadata"].get("generation") or 0)

    @property
    def spec(self) -> Obj:
        spec: Obj = self.obj.setdefault("spec", {})
        return spec

    @property
    def status(self) -> Obj:
        status: Obj = self.obj.setdefault("status", {})
        return status


@dataclass(frozen=True)
class NamedStep(Generic[S]):
    """One step of a reconciler: its name (for logs and metrics) and the coroutine that runs it."""

    name: str
    run: Callable[[Request[S]], Awaitable[Result | None]]


class Reconciler(Protocol[S]):
    """A kind's reconciler: the controller drives it; it never talks to the queue or patches status."""

    controller_name: str
    resource: Resource
    condition_table: conditions.ConditionTable

    def new_state(self) -> S:
        """A fresh step state for one reconcile."""
        ...

    def steps(self) -> Sequence[NamedStep[S]]: ...

    async def finalize(self, req: Request[S]) -> Result | None:
        """Clean up before the finalizer is removed (the object is being deleted)."""
        ...

    def interval(self, obj: Obj) -> float | None:
        """Seconds until the next reconcile after a success (None: only on a change)."""
        ...

    def retry_interval(self, obj: Obj) -> float | None: ...


async def run_steps(
    req: Request[S], steps: Sequence[NamedStep[S]], *, on_step_end: Callable[[], None] | None = None
) -> Result:
    """Run steps in order. An exception stops the run and propagates; a requeue result stops it too.

    `on_step_end` runs after each step, whatever its outcome (the controller ends a step's progress report).
    """
    combined = Result()
    for step in steps:
        try:
            result = await step.run(req)
        finally:
            if on_step_end is not None:
                on_step_end()
        if result is None:
            continue
        combined = combined.merge(result)
        if result.requeue_after is not None or not result.success:
            break
    return combined
