"""Test: the chart's test hooks run against the release (TestSuccess; TestSucceeded or TestFailed)."""

from __future__ import annotations

from gotk.api import helm_conditions as hc
from gotk.helm import planner
from gotk.helm import status as hstatus
from gotk.helm.actions import options
from gotk.helm.actions.base import Obj, ReleaseAction, Run
from gotk.helm.lib import HelmActionError, Release
from gotk.runtime import conditions


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

    # a failed test counts against the active remediation (the last install's or upgrade's), unless ignored
    counter_of = {planner.INSTALL: "installFailures", planner.UPGRADE: "upgradeFailures"}

    def message(self, result: Release) -> str:
        hooks = [h for h in result.hooks if "test" in h.events]
        done = f"{len(hooks)} test hook{'s' if len(hooks) != 1 else ''} completed successfully" if hooks else ""
        where = f"release {result.namespace}/{result.name}.v{result.version}"
        return f"Helm test succeeded for {where} with chart {result.chart.name}@{result.chart.version}: " + (
            done or "no test hooks"
        )

    def succeeded(self, obj: Obj, result: Release) -> str:
        self._record_hooks(obj, result)
        text = self.message(result)
        conditions.mark_true(obj, self.condition, self.succeeded_reason, text)
        return text

    def failed(self, obj: Obj, run: Run, error: HelmActionError, *, counts: bool = True) -> str:
        status = obj.setdefault("status", {})
        status["failures"] = int(status.get("failures") or 0) + 1
        tested = error.release is not None and self._record_hooks(obj, error.release)
        counter = self.counter_of.get(str(status.get("lastAttemptedReleaseAction") or ""))
        if tested and counts and counter is not None:
            status[counter] = int(status.get(counter) or 0) + 1
        history = status.get("history") or [{}]
        where = f"release {history[0].get('namespace')}/{history[0].get('name')}.v{history[0].get('version')}"
        chart = f"{history[0].get('chartName')}@{history[0].get('chartVersion')}"
        text = f"Helm test failed for {where} with chart {chart}: {error.message.strip()}"
        conditions.mark_false(obj, self.condition, self.failed_reason, text)
        return text

    def observed(self, before: Release | None, after: Release | None, error: HelmActionError) -> bool:
        return error.release is not None

    def _record_hooks(self, obj: Obj, result: Release) -> bool:
        """The test hooks' phases in the latest history entry, when it is the release tested; returns whether."""
        history = obj.get("status", {}).get("history") or []
        if not history or (history[0].get("name"), history[0].get("version")) != (result.name, result.version):
            return False
        history[0]["testHooks"] = hstatus.test_hooks(result.hooks, options.test_filters(obj["spec"].get("test") or {}))
        return True
