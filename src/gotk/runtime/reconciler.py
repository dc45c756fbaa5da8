"""What a reconciler is: an ordered list of named steps over one object, plus a finalizer step.

`Request` carries the working copy of the object and the tools a step may use. `run_steps` runs the steps in
order, stops at the first error or explicit requeue, and returns the combined `Result`. The controller
(`gotk.runtime.controller`) summarizes conditions and patches the status once afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from gotk.kube.client import Client
from gotk.kube.resources import Resource
from gotk.runtime import conditions
from gotk.runtime.events import EventRecorder
from gotk.runtime.results import Result

Obj = dict[str, Any]


@dataclass
class Request:
    """One reconcile of one object: `obj` is a working copy whose status the steps change."""

    obj: Obj
    client: Client
    recorder: EventRecorder
    log: logging.LoggerAdapter[logging.Logger]
    reconcile_id: str
    scratch: dict[str, Any] = field(default_factory=dict)
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def defer(self, fn: Callable[[], None]) -> None:
        """Run `fn` after the reconcile, whatever its outcome (temporary directories and the like)."""
        self.cleanups.append(fn)

    def run_cleanups(self) -> None:
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


Step = Callable[[Request], Awaitable[Result | None]]


@dataclass(frozen=True)
class NamedStep:
    name: str
    run: Step


class Reconciler(Protocol):
    """A kind's reconciler: the controller drives it; it never talks to the queue or patches status."""

    controller_name: str
    resource: Resource
    condition_table: conditions.ConditionTable

    def steps(self) -> Sequence[NamedStep]: ...

    async def finalize(self, req: Request) -> Result | None:
        """Clean up before the finalizer is removed (the object is being deleted)."""
        ...

    def interval(self, obj: Obj) -> float: ...

    def retry_interval(self, obj: Obj) -> float | None: ...


async def run_steps(req: Request, steps: Sequence[NamedStep]) -> Result:
    """Run steps in order. An exception stops the run and propagates; a requeue result stops it too."""
    combined = Result()
    for step in steps:
        req.scratch["step"] = step.name
        result = await step.run(req)
        if result is None:
            continue
        combined = combined.merge(result)
        if result.requeue_after is not None or not result.success:
            break
    return combined
