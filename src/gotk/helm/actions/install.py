"""Install: the first release of a chart (Released; InstallSucceeded or InstallFailed; installFailures)."""

from __future__ import annotations

from gotk.api import helm_conditions as hc
from gotk.helm import planner
from gotk.helm.actions.base import Obj, ReleaseAction, Run
from gotk.helm.lib import Options, Release
from gotk.runtime import conditions


def release_options(run: Run, section: Obj) -> Options:
    """The options install and upgrade share, from spec.install or spec.upgrade."""
    return {
        "timeout": run.timeout,
        "wait": not section.get("disableWait"),
        "wait_for_jobs": not section.get("disableWaitForJobs"),
        "disable_hooks": bool(section.get("disableHooks")),
        "force_conflicts": True,
    }


class Install(ReleaseAction):
    """`helm install` of the chart with the composed values (spec.install)."""

    name = planner.INSTALL
    condition = hc.RELEASED
    succeeded_reason = hc.INSTALL_SUCCEEDED
    failed_reason = hc.INSTALL_FAILED
    counter = "installFailures"
    records_attempt = True

    async def run(self, run: Run) -> Release:
        section = run.section("install")
        options = release_options(run, section)
        options["create_namespace"] = bool(section.get("createNamespace"))
        release: Release = await run.helm(
            run.lib.install, run.target, run.name, run.required_chart(), run.values, **options
        )
        return release

    def succeeded(self, obj: Obj, result: Release) -> str:
        conditions.delete(obj, hc.REMEDIATED)
        return super().succeeded(obj, result)
