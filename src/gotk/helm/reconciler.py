"""The HelmRelease reconciler: chart, values, release — real Helm releases through `HelmLib` (Helm v4's own
action package), decided step by step by the pure planner.

chart: `spec.chart` creates or updates the HelmChart `<namespace>-<name>` (in the source's namespace) and waits
for its artifact; `spec.chartRef` names a HelmChart or an OCIRepository (a chart layer copied as is). The
artifact is downloaded and its digest checked. values: `valuesFrom` ConfigMaps and Secrets, then `values`.
release: install, upgrade, test, roll back or uninstall, as `gotk.helm.planner` says, until the release is
in sync (at most a few actions per reconcile); failures count against the remediation retries.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from gotk.api import helm_conditions as hc
from gotk.api import helm_v2, meta
from gotk.helm import actions, planner
from gotk.helm import status as hstatus
from gotk.helm import values as hv
from gotk.helm.lib import HelmActionError, HelmLib, Release, ReleaseNotFoundError, Target
from gotk.kube.errors import ApiError
from gotk.kube.resources import HELMCHARTS, HELMRELEASES, OCIREPOSITORIES
from gotk.runtime import artifacts, chartarchive, conditions, secrets
from gotk.runtime.events import NORMAL
from gotk.runtime.reconciler import NamedStep, Request
from gotk.runtime.results import GenericError, Result, StallingError, WaitingError

Obj = dict[str, Any]
T = TypeVar("T")
CHART_REFS = {"HelmChart": HELMCHARTS, "OCIRepository": OCIREPOSITORIES}
FIELD_MANAGER = "helm-controller"
MAX_ACTIONS = 6
MAX_CHART = 50 << 20

# Ready, as Flux's helm-controller summarizes it: Remediated over TestSuccess over Released
CONDITIONS = conditions.ConditionTable(
    owned=(meta.READY, meta.RECONCILING, meta.STALLED, hc.RELEASED, hc.TEST_SUCCESS, hc.REMEDIATED),
    summarize=(hc.REMEDIATED, hc.TEST_SUCCESS, hc.RELEASED),
    negative_polarity=(hc.REMEDIATED, meta.RECONCILING, meta.STALLED),
)


@dataclass
class ReleaseState:
    """What the HelmRelease steps hand on: the chart (archive and Chart.yaml) and the composed values."""

    chart_path: Path | None = None
    chart: Obj = field(default_factory=dict)
    values: Obj = field(default_factory=dict)
    config_digest: str = ""


Req = Request[ReleaseState]


class HelmReleaseReconciler:
    """Makes a Helm release match a HelmRelease: its chart, its values, and Helm's actions in between."""

    controller_name = "helm-controller"
    resource = HELMRELEASES
    condition_table = CONDITIONS

    def __init__(self, lib: HelmLib, kubeconfig: Path, *, requeue_dependency: float = 30.0, workers: int = 10) -> None:
        self.lib = lib
        self.kubeconfig = kubeconfig
        self.requeue_dependency = requeue_dependency
        # Helm actions block a thread for as long as they wait on the cluster: a pool of their own, sized for
        # the reconciles that run at once (asyncio's default pool has only cpu+4 threads, shared by everyone)
        self.pool = ThreadPoolExecutor(max_workers=max(4, workers), thread_name_prefix="helm")

    async def _helm(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, functools.partial(fn, *args, **kwargs))

    def new_state(self) -> ReleaseState:
        return ReleaseState()

    def steps(self) -> Sequence[NamedStep[ReleaseState]]:
        return (
            NamedStep("chart", self.reconcile_chart),
            NamedStep("values", self.reconcile_values),
            NamedStep("release", self.reconcile_release),
        )

    def interval(self, obj: Obj) -> float:
        return helm_v2.interval(obj)

    def retry_interval(self, obj: Obj) -> float | None:
        return None

    def target(self, obj: Obj) -> Target:
        spec, ns = obj.get("spec") or {}, obj["metadata"]["namespace"]
        sa = spec.get("serviceAccountName")
        return Target(
            namespace=str(spec.get("targetNamespace") or ns),
            kubeconfig=self.kubeconfig,
            storage_namespace=helm_v2.storage_namespace(obj),
            impersonate=f"system:serviceaccount:{ns}:{sa}" if sa else "",
        )

    # -- chart -----------------------------------------------------------------------------------

    async def reconcile_chart(self, req: Req) -> Result | None:
        """Get the chart: the HelmChart made from spec.chart, or the chartRef; download and check its archive."""
        spec = req.spec
        if spec.get("chart") and spec.get("chartRef"):
            raise StallingError(hc.INVALID_CHART_REFERENCE, "spec.chart and spec.chartRef are mutually exclusive")
        if spec.get("chart"):
            source = await self._ensure_chart(req)
        elif spec.get("chartRef"):
            ref = spec["chartRef"]
            res = CHART_REFS.get(str(ref.get("kind")))
            if res is None:
                raise StallingError(hc.INVALID_CHART_REFERENCE, f"unsupported chartRef kind '{ref.get('kind')}'")
            ns = ref.get("namespace") or req.namespace
            found = await req.client.get_or_none(res, str(ref.get("name")), ns)
            if found is None:
                message = f"could not get {ref.get('kind')} '{ns}/{ref.get('name')}': not found"
                raise WaitingError(hc.ARTIFACT_FAILED, message, self.requeue_dependency)
            source = found
        else:
            raise StallingError(hc.INVALID_CHART_REFERENCE, "one of spec.chart or spec.chartRef is required")
        artifact = (source.get("status") or {}).get("artifact")
        ready = conditions.get(source, meta.READY) or {}
        where = f"{source['kind']} '{source['metadata']['namespace']}/{source['metadata']['name']}'"
        if not artifact or ready.get("status") != "True":
            detail = ready.get("message") or "no artifact yet"
            raise WaitingError(hc.ARTIFACT_FAILED, f"{where} is not ready: {detail}", self.requeue_dependency)
        workdir = Path(tempfile.mkdtemp(prefix=f"helmrelease-{req.namespace}-{req.name}-"))
        req.defer(lambda: shutil.rmtree(workdir, ignore_errors=True))
        path = workdir / "chart.tgz"
        try:
            await artifacts.download(str(artifact["url"]), str(artifact["digest"]), path, max_size=MAX_CHART, retries=0)
            chart = await asyncio.to_thread(lambda: chartarchive.metadata_from_archive(path.read_bytes()))
        except (OSError, chartarchive.ChartError, artifacts.ArtifactError) as exc:
            raise GenericError(hc.ARTIFACT_FAILED, f"failed to fetch the chart of {where}: {exc}") from None
        req.state.chart_path, req.state.chart = path, chart
        return None

    async def _ensure_chart(self, req: Req) -> Obj:
        template = req.spec["chart"]
        tspec = dict(template.get("spec") or {})
        source_ref = dict(tspec.get("sourceRef") or {})
        ns = source_ref.pop("namespace", None) or req.namespace
        name = hv.chart_object_name(req.obj)
        labels = {
            **((template.get("metadata") or {}).get("labels") or {}),
            "helm.toolkit.fluxcd.io/name": req.name,
            "helm.toolkit.fluxcd.io/namespace": req.namespace,
        }
        chart_spec = {k: v for k, v in tspec.items() if k != "sourceRef"}
        chart_spec["sourceRef"] = source_ref
        chart_spec.setdefault("interval", helm_v2.chart_interval(req.obj))
        metadata: Obj = {"name": name, "namespace": ns, "labels": labels}
        if (template.get("metadata") or {}).get("annotations"):
            metadata["annotations"] = template["metadata"]["annotations"]
        body = {"apiVersion": HELMCHARTS.api_version, "kind": "HelmChart", "metadata": metadata, "spec": chart_spec}
        applied = await req.client.apply(HELMCHARTS, body, field_manager=FIELD_MANAGER)
        req.status["helmChart"] = f"{ns}/{name}"
        return applied

    # -- values ----------------------------------------------------------------------------------

    async def reconcile_values(self, req: Req) -> Result | None:
        """Compose the values: valuesFrom ConfigMaps and Secrets in order, then spec.values; their digest."""
        refs = [hv.ValuesRef.from_spec(r) for r in req.spec.get("valuesFrom") or []]
        loaded = []
        for ref in refs:
            field = f"spec.valuesFrom[{ref.kind}/{ref.name}]"
            try:
                if ref.kind == "Secret":
                    data = await secrets.secret_text(req.client, req.namespace, ref.name, field=field, optional=True)
                elif ref.kind == "ConfigMap":
                    data = await secrets.configmap_data(req.client, req.namespace, ref.name, field=field, optional=True)
                else:
                    raise StallingError(hc.INIT_FAILED, f"unsupported valuesFrom kind '{ref.kind}'")
            except secrets.SecretError as exc:
                raise GenericError(hc.INIT_FAILED, f"could not resolve chart values: {exc}") from None
            loaded.append((ref, data))
        try:
            composed = hv.compose(loaded, req.spec.get("values"))
        except hv.ValuesError as exc:
            raise GenericError(hc.INIT_FAILED, f"could not resolve chart values: {exc}") from None
        req.state.values, req.state.config_digest = composed, hv.digest(composed)
        return None

    # -- release ---------------------------------------------------------------------------------

    async def reconcile_release(self, req: Req) -> Result | None:
        """Run Helm's actions as the planner decides, one at a time, until the release is in sync."""
        spec, status, chart = req.spec, req.status, req.state.chart
        name, target = hv.release_name(req.obj), self.target(req.obj)
        desired = planner.Desired(
            str(chart["name"]),
            str(chart["version"]),
            req.state.config_digest,
            test_enabled=bool((spec.get("test") or {}).get("enable")),
        )
        attempt = (desired.chart_version, desired.config_digest, req.generation)
        last = (
            status.get("lastAttemptedRevision"),
            status.get("lastAttemptedConfigDigest"),
            status.get("lastAttemptedGeneration"),
        )
        changed = attempt != last
        if changed:
            status["installFailures"] = status["upgradeFailures"] = 0
        policy = planner.Policy.from_spec(spec)
        error: GenericError | None = None
        for _ in range(MAX_ACTIONS):
            rls = await self._latest(target, name)
            tested = bool(status.get("history") and (status["history"][0].get("testHooks")))
            mem = hstatus.memory(status, changed=changed, tested=tested)
            plan = planner.next_action(planner.release_state(hstatus.current(rls), desired, mem), policy, mem)
            if plan.kind == planner.NONE:
                break
            if plan.kind == planner.STALL:
                conditions.mark_false(req.obj, hc.RELEASED, hc.RETRIES_EXCEEDED, plan.reason)
                raise StallingError(hc.RETRIES_EXCEEDED, f"release {target.namespace}/{name}: {plan.reason}")
            action = actions.ACTIONS[plan.kind]
            error = await self._run(req, action, self._context(req, target, name))
            changed = changed and not action.attempts_desired
            if error is not None and action.name not in (planner.INSTALL, planner.UPGRADE):
                break
        if error is not None:
            raise error
        return None

    async def _latest(self, target: Target, name: str) -> Release | None:
        try:
            return await self._helm(self.lib.get, target, name)
        except ReleaseNotFoundError:
            return None
        except HelmActionError as exc:
            raise GenericError(meta.FAILED, str(exc)) from None

    def _context(self, req: Req, target: Target, name: str) -> actions.Run:
        """What an action of this reconcile needs: Helm, the release's place, the chart and the values."""
        return actions.Run(
            lib=self.lib,
            helm=self._helm,
            target=target,
            name=name,
            obj=req.obj,
            timeout=helm_v2.timeout(req.obj),
            max_history=helm_v2.max_history(req.obj),
            chart_path=req.state.chart_path,
            chart=req.state.chart,
            values=req.state.values,
        )

    async def _run(self, req: Req, action: actions.ReleaseAction, run: actions.Run) -> GenericError | None:
        """Run one action; record it in the status; return the failure (None on success)."""
        status = req.status
        req.progress(action.progress(run))
        if action.records_attempt:
            status["lastAttemptedReleaseAction"] = action.name
        attempt = {"lastAttemptedConfigDigest": req.state.config_digest, "lastAttemptedGeneration": req.generation}
        try:
            result = await action.run(run)
        except HelmActionError as exc:
            if action.attempts_desired:
                status.update(attempt, lastAttemptedRevision=str(req.state.chart["version"]))
            return GenericError(action.failed_reason, action.failed(req.obj, run, exc.message))
        if action.attempts_desired:
            status.update(attempt, lastAttemptedRevision=result.chart.version)
            status["storageNamespace"] = run.target.storage_namespace
        text = action.succeeded(req.obj, result)
        await req.recorder.emit(req.obj, NORMAL, action.event_reason or action.succeeded_reason, text)
        return None

    async def finalize(self, req: Req) -> Result | None:
        name, target = hv.release_name(req.obj), self.target(req.obj)
        if await self._latest(target, name) is not None:
            try:
                await self._helm(self.lib.uninstall, target, name)
            except HelmActionError as exc:
                raise GenericError(hc.UNINSTALL_FAILED, str(exc)) from None
        chart = str(req.status.get("helmChart") or "")
        if chart and "/" in chart:
            ns, chart_name = chart.split("/", 1)
            try:
                await req.client.delete(HELMCHARTS, chart_name, ns)
            except ApiError as exc:
                if not exc.not_found:
                    raise
        return None
