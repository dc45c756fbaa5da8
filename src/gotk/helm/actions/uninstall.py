"""Uninstall: remediation of a failed install, or a release whose target moved (Remediated; UninstallSucceeded
or UninstallFailed). The uninstalled release is not a history entry."""

from __future__ import annotations

from gotk.api import helm_conditions as hc
from gotk.helm import planner
from gotk.helm.actions import options
from gotk.helm.actions.base import Obj, ReleaseAction, Run
from gotk.helm.lib import Release
from gotk.runtime import conditions


class Uninstall(ReleaseAction):
    """`helm uninstall` of the release."""

    name = planner.UNINSTALL
    section = "uninstall"
    condition = hc.REMEDIATED
    succeeded_reason = hc.UNINSTALL_SUCCEEDED
    failed_reason = hc.UNINSTALL_FAILED
    event_reason = hc.REMEDIATION_SUCCEEDED
    remediation = True

    async def run(self, run: Run) -> Release:
        release: Release = await run.helm(run.lib.uninstall, run.target, run.name, **options.uninstall(run.obj))
        return release

    def succeeded(self, obj: Obj, result: Release) -> str:
        text = self.message(result)
        conditions.mark_true(obj, self.condition, self.succeeded_reason, text)
        return text
