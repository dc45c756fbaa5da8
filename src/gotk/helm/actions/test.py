"""Test: the chart's test hooks run against the release (TestSuccess; TestSucceeded or TestFailed)."""

from __future__ import annotations

from gotk.api import helm_conditions as hc
from gotk.helm import planner
from gotk.helm.actions import options
from gotk.helm.actions.base import Obj, ReleaseAction, Run
from gotk.helm.lib import Release


class Test(ReleaseAction):
    """`helm test` of the release; the hooks' phases are kept in the latest history entry."""

    name = planner.TEST
    section = "test"
    condition = hc.TEST_SUCCESS
    succeeded_reason = hc.TEST_SUCCEEDED
    failed_reason = hc.TEST_FAILED

    async def run(self, run: Run) -> Release:
        release: Release = await run.helm(run.lib.test, run.target, run.name, **options.test(run.obj))
        return release

    def succeeded(self, obj: Obj, result: Release) -> str:
        text = super().succeeded(obj, result)
        obj["status"]["history"][0]["testHooks"] = {h.name: {"phase": h.phase} for h in result.hooks}
        return text
