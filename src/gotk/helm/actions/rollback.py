"""Rollback: remediation of a failed upgrade by the previous revision (Remediated; RollbackSucceeded or
RollbackFailed); the upgrade it remediates stays recorded as Released=False."""

from __future__ import annotations

from gotk.api import helm_conditions as hc
from gotk.helm import planner
from gotk.helm.actions import options
from gotk.helm.actions.base import Obj, ReleaseAction, Run
from gotk.helm.lib import Release
from gotk.runtime import conditions


class Rollback(ReleaseAction):
    """`helm rollback` to the previous revision."""

    name = planner.ROLLBACK
    stores_release = True
    section = "rollback"
    condition = hc.REMEDIATED
    succeeded_reason = hc.ROLLBACK_SUCCEEDED
    failed_reason = hc.ROLLBACK_FAILED
    event_reason = hc.REMEDIATION_SUCCEEDED
    remediation = True

    async def run(self, run: Run) -> Release:
        release: Release = await run.helm(run.lib.rollback, run.target, run.name, 0, **options.rollback(run.obj))
        return release

    def succeeded(self, obj: Obj, result: Release) -> str:
        text = super().succeeded(obj, result)
        conditions.mark_false(obj, hc.RELEASED, hc.UPGRADE_FAILED, text)
        return text
