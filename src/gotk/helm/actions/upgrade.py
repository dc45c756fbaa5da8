"""Upgrade: a new revision of the release (Released; UpgradeSucceeded or UpgradeFailed; upgradeFailures)."""

from __future__ import annotations

from gotk.api import helm_conditions as hc
from gotk.helm import planner
from gotk.helm.actions import options
from gotk.helm.actions.base import Obj, ReleaseAction, Run
from gotk.helm.lib import Release
from gotk.runtime import conditions


class Upgrade(ReleaseAction):
    """`helm upgrade` to the chart with the composed values (spec.upgrade)."""

    name = planner.UPGRADE
    stores_release = True
    section = "upgrade"
    condition = hc.RELEASED
    succeeded_reason = hc.UPGRADE_SUCCEEDED
    failed_reason = hc.UPGRADE_FAILED
    counter = "upgradeFailures"
    records_attempt = True

    async def run(self, run: Run) -> Release:
        release: Release = await run.helm(
            run.lib.upgrade,
            run.target,
            run.name,
            run.required_chart(),
            run.values,
            **options.upgrade(run.obj),
            chart_version=run.chart_version,
        )
        return release

    def succeeded(self, obj: Obj, result: Release) -> str:
        conditions.delete(obj, hc.REMEDIATED)
        return super().succeeded(obj, result)
