"""Unlock: a release left pending-install, pending-upgrade or pending-rollback by a controller that died in the
middle of an action is marked failed in Helm's storage, so that the next action may run (Released=False,
PendingRelease). The planner then remediates or retries it as any failed release."""

from __future__ import annotations

from gotk.api import helm_conditions as hc
from gotk.helm import planner
from gotk.helm.actions.base import Obj, ReleaseAction, Run
from gotk.helm.lib import Release
from gotk.runtime import conditions


class Unlock(ReleaseAction):
    """Marks the latest revision failed when it is pending (libgotkhelm's `unlock`)."""

    name = planner.UNLOCK
    condition = hc.RELEASED
    succeeded_reason = hc.PENDING_RELEASE
    failed_reason = hc.PENDING_RELEASE
    counter = "failures"
    attempts_desired = False

    def progress(self, run: Run) -> str:
        return f"Unlocking release {run.target.namespace}/{run.name} left in a pending state"

    async def run(self, run: Run) -> Release:
        release: Release = await run.helm(run.lib.unlock, run.target, run.name)
        return release

    def succeeded(self, obj: Obj, result: Release) -> str:
        text = (
            f"Unlocked Helm release {result.namespace}/{result.name}.v{result.version} with chart "
            f"{result.chart.name}@{result.chart.version} from a pending state"
        )
        conditions.mark_false(obj, self.condition, self.succeeded_reason, text)
        return text
