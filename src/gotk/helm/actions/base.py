"""What every release action shares: the run context, and how a success or a failure is recorded.

A `ReleaseAction` declares its condition (Released, TestSuccess or Remediated), its success and failure
reasons, the event reason of a success and the status counter a failure increments; `run` calls Helm through
`Run.helm` (Helm's work blocks a thread of the helm controller's own pool). `succeeded` and `failed` write the
outcome into the HelmRelease's status and conditions; the reconciler (`gotk.helm.reconciler`) runs one action
at a time as the planner decides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from gotk.helm import status as hstatus
from gotk.helm.lib import HelmActionError, HelmLib, Release, Target
from gotk.runtime import conditions

Obj = dict[str, Any]


@dataclass(frozen=True)
class Run:
    """One action's inputs: Helm, where the release lives, the HelmRelease, and the chart and values to release."""

    lib: HelmLib
    helm: Callable[..., Awaitable[Any]]  # helm(fn, *args, **kwargs): fn run in the helm controller's pool
    target: Target
    name: str
    obj: Obj
    timeout: str
    max_history: int
    chart_path: Path | None = None
    chart: Obj | None = None  # the chart's Chart.yaml
    chart_version: str = ""  # the version to release (an OCI chart's carries `+<digest[:12]>`)
    values: Obj | None = None

    @property
    def spec(self) -> Obj:
        spec: Obj = self.obj.get("spec") or {}
        return spec

    def section(self, key: str) -> Obj:
        """spec.install, spec.upgrade, spec.test, spec.rollback or spec.uninstall (empty when absent)."""
        found: Obj = self.spec.get(key) or {}
        return found

    def required_chart(self) -> Path:
        if self.chart_path is None:
            raise ValueError(f"release {self.target.namespace}/{self.name}: no chart to release")
        return self.chart_path


class ReleaseAction:
    """One Helm action and what it records; subclasses set the class attributes and `run`."""

    name: ClassVar[str]
    condition: ClassVar[str]
    succeeded_reason: ClassVar[str]
    failed_reason: ClassVar[str]
    event_reason: ClassVar[str] = ""  # of the Normal event on success; the success reason when empty
    counter: ClassVar[str | None] = None  # the status field a failure increments (installFailures, ...)
    remediation: ClassVar[bool] = False  # rollback and uninstall remediate a failed install or upgrade
    records_attempt: ClassVar[bool] = False  # install and upgrade are status.lastAttemptedReleaseAction
    stores_release: ClassVar[bool] = False  # install, upgrade, rollback: status.inventory follows the release
    attempts_desired: ClassVar[bool] = True  # records lastAttempted* (all but unlock, which acts on the old one)

    async def run(self, run: Run) -> Release:
        raise NotImplementedError

    section: ClassVar[str] = ""  # the spec field of the action's settings (install, upgrade, ...)

    def progress(self, run: Run) -> str:
        """What the HelmRelease shows while the action runs."""
        timeout = run.section(self.section).get("timeout") or run.timeout
        return f"Running '{self.name}' action with timeout of {timeout}"

    def message(self, result: Release) -> str:
        return hstatus.message(self.name, result)

    def succeeded(self, obj: Obj, result: Release) -> str:
        """Record a success: the history, the action's condition; returns the message."""
        text = self.message(result)
        hstatus.record(obj.setdefault("status", {}), result, action=self.name)
        conditions.mark_true(obj, self.condition, self.succeeded_reason, text)
        return text

    def failed(self, obj: Obj, run: Run, error: HelmActionError, *, counts: bool = True) -> str:
        """Record a failure: `failures` and the action's counter, the action's condition False; returns the
        message. `counts` is False when a failed test is ignored (it then counts in `failures` only)."""
        status = obj.setdefault("status", {})
        status["failures"] = int(status.get("failures") or 0) + 1
        if self.counter is not None and counts:
            status[self.counter] = int(status.get(self.counter) or 0) + 1
        chart = run.chart or {}
        text = (
            f"Helm {self.name} failed for release {run.target.namespace}/{run.name} with chart "
            f"{chart.get('name')}@{run.chart_version or chart.get('version')}: {error.message}"
        )
        conditions.mark_false(obj, self.condition, self.failed_reason, text)
        return text

    def observed(self, before: Release | None, after: Release | None, error: HelmActionError) -> bool:
        """Whether the failure left a mark the next state shows (Helm stored a new revision or a new status);
        when it did not, the reconcile returns the error and is retried with backoff."""
        if after is None:
            return False
        if before is None:
            return True
        return (after.version, after.status) != (before.version, before.status)
