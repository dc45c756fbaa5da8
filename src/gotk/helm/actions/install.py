"""Install: the first release of a chart (Released; InstallSucceeded or InstallFailed; installFailures)."""

from __future__ import annotations

from gotk.api import helm_conditions as hc
from gotk.helm import planner
from gotk.helm.actions import options
from gotk.helm.actions.base import Obj, ReleaseAction, Run
from gotk.helm.lib import Release
from gotk.runtime import conditions


class Install(ReleaseAction):
    """`helm install` of the chart with the composed values (spec.install)."""

    name = planner.INSTALL
    stores_release = True
    section = "install"
    condition = hc.RELEASED
    succeeded_reason = hc.INSTALL_SUCCEEDED
    failed_reason = hc.INSTALL_FAILED
    counter = "installFailures"
    records_attempt = True

    async def run(self, run: Run) -> Release:
        release: Release = await run.helm(
            run.lib.install,
            run.target,
            run.name,
            run.required_chart(),
            run.values,
            **options.install(run.obj),
            chart_version=run.chart_version,
        )
        return release

    def succeeded(self, obj: Obj, result: Release) -> str:
        conditions.delete(obj, hc.REMEDIATED)
        return super().succeeded(obj, result)
