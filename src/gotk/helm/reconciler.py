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
import dataclasses
import functools
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from gotk.api import helm_conditions as hc
from gotk.api import helm_v2, meta
from gotk.gocompat import durations
from gotk.helm import actions, chartref, drift, inventory, planner, postrender
from gotk.helm import status as hstatus
from gotk.helm import values as hv
from gotk.helm.actions import options
from gotk.helm.lib import HelmActionError, HelmLib, Release, ReleaseNotFoundError, Target
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import EXTERNALARTIFACTS, HELMCHARTS, HELMRELEASES, OCIREPOSITORIES
from gotk.runtime import artifacts, chartarchive, conditions, dependencies, remote
from gotk.runtime.events import NORMAL, WARNING
from gotk.runtime.informer import Informer
from gotk.runtime.reconciler import NamedStep, Request
from gotk.runtime.results import GenericError, Result, StallingError, WaitingError
from gotk.ssa import diff
from gotk.ssa import status as ssa_status

Obj = dict[str, Any]
T = TypeVar("T")
CHART_REFS = {"HelmChart": HELMCHARTS, "OCIRepository": OCIREPOSITORIES, "ExternalArtifact": EXTERNALARTIFACTS}
FIELD_MANAGER = "helm-controller"
MAX_ACTIONS = 6
MAX_CHART = 50 << 20


def _summary(obj: conditions.View) -> tuple[str, ...]:
    """Ready, as Flux's helm-controller summarizes it: Remediated over TestSuccess over Released, TestSuccess only
    when tests are enabled and their failures not ignored."""
    test = (obj.get("spec") or {}).get("test") or {}
    if test.get("enable") and not test.get("ignoreFailures"):
        return (hc.REMEDIATED, hc.TEST_SUCCESS, hc.RELEASED)
    return (hc.REMEDIATED, hc.RELEASED)


CONDITIONS = conditions.ConditionTable(
    owned=(meta.READY, meta.RECONCILING, meta.STALLED, hc.RELEASED, hc.TEST_SUCCESS, hc.REMEDIATED, hc.DRIFTED),
    summarize=(hc.REMEDIATED, hc.TEST_SUCCESS, hc.RELEASED),
    negative_polarity=(hc.REMEDIATED, meta.RECONCILING, meta.STALLED),
    summarize_for=_summary,
)


@dataclass
class ReleaseState:
    """What the HelmRelease steps hand on: the chart (archive and Chart.yaml) and the composed values."""

    chart_path: Path | None = None
    chart: Obj = field(default_factory=dict)
    chart_version: str = ""  # the chart's version as released: `+<digest[:12]>` appended for an OCI source
    oci_digest: str = ""  # the OCI source's digest, recorded in lastAttemptedRevisionDigest and the history
    values: Obj = field(default_factory=dict)
    config_digest: str = ""
    latest: Release | None = None  # the stored release as the last action returned it (no read needed)
    latest_known: bool = False
    cluster: Client | None = None  # a client for that cluster: drift detection and the inventory


Req = Request[ReleaseState]


@dataclass(frozen=True)
class Failure:
    """An action that failed: the error, and whether it left a mark Helm's storage or the status records (a
    failed revision, tested hooks), so that the next state shows it; without one the error is retried."""

    error: GenericError
    observed: bool


def _go_duration(seconds: float) -> str:
    """Seconds as a Go duration string (`5m0s`, `1.5s`)."""
    return durations.go_string(seconds)


class HelmReleaseReconciler:
    """Makes a Helm release match a HelmRelease: its chart, its values, and Helm's actions in between."""

    controller_name = "helm-controller"
    resource = HELMRELEASES
    condition_table = CONDITIONS

    def __init__(
        self,
        lib: HelmLib,
        kubeconfig: Path,
        *,
        requeue_dependency: float = 30.0,
        workers: int = 10,
        no_cross_namespace_refs: bool = False,
        default_service_account: str = "",
    ) -> None:
        self.lib = lib
        self.kubeconfig = kubeconfig
        self.requeue_dependency = requeue_dependency
        self.no_cross_namespace_refs = no_cross_namespace_refs
        self.default_service_account = default_service_account
        # Helm actions block a thread for as long as they wait on the cluster: a pool of their own, sized for
        # the reconciles that run at once (asyncio's default pool has only cpu+4 threads, shared by everyone)
        self.pool = ThreadPoolExecutor(max_workers=max(4, workers), thread_name_prefix="helm")
        self._remotes: dict[str, tuple[Path, Client]] = {}  # kubeConfig Secret@resourceVersion -> (file, client)
        self.sources: dict[str, Informer] = {}  # the watched chart sources by kind (set by the controller)
        self._applied_charts: dict[tuple[str, str], Obj] = {}  # the HelmChart bodies this process applied

    async def _helm(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, functools.partial(fn, *args, **kwargs))

    def new_state(self) -> ReleaseState:
        return ReleaseState()

    def steps(self) -> Sequence[NamedStep[ReleaseState]]:
        return (
            NamedStep("dependencies", self.reconcile_dependencies),
            NamedStep("chart", self.reconcile_chart),
            NamedStep("values", self.reconcile_values),
            NamedStep("release", self.reconcile_release),
        )

    def interval(self, obj: Obj) -> float:
        return helm_v2.interval(obj)

    def retry_interval(self, obj: Obj) -> float | None:
        return None

    async def release_target(self, req: Req) -> Target:
        """The release's place, on the cluster of spec.kubeConfig when it has one (its kubeconfig Secret written
        to a file for Helm, a client kept for drift detection and the inventory in req.state.cluster)."""
        target = self.target(req.obj)
        known = [str(h.get("ociDigest") or "") for h in req.status.get("history") or []]
        oci = tuple(dict.fromkeys(d for d in (*known, req.state.oci_digest) if d))
        target = dataclasses.replace(target, oci_digests=oci)
        try:
            ref = remote.secret_ref(req.spec)
        except remote.UnsupportedKubeConfigError as exc:
            raise StallingError(hc.REST_CLIENT_ERROR, str(exc)) from None
        if ref is None:
            req.state.cluster = req.client
            return target
        try:
            found = await remote.load(req.client, req.namespace, ref)
        except remote.KubeConfigError as exc:
            raise GenericError(hc.REST_CLIENT_ERROR, str(exc)) from exc
        path, client = self._remotes.get(found.key, (None, None))
        if path is None or client is None:
            path = self.kubeconfig.parent / f"remote-{hashlib.sha256(found.key.encode()).hexdigest()[:16]}.yaml"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(found.doc, handle)
            client = req.client.for_config(found.config)
            self._remotes[found.key] = (path, client)
        target = dataclasses.replace(target, kubeconfig=path)
        req.state.cluster = client
        return target

    async def close(self) -> None:
        """Close the clients of remote clusters."""
        for _, client in self._remotes.values():
            await client.close()
        self._remotes.clear()

    def target(self, obj: Obj) -> Target:
        spec, ns = obj.get("spec") or {}, obj["metadata"]["namespace"]
        sa = spec.get("serviceAccountName") or self.default_service_account
        return Target(
            namespace=str(spec.get("targetNamespace") or ns),
            kubeconfig=self.kubeconfig,
            storage_namespace=helm_v2.storage_namespace(obj),
            impersonate=f"system:serviceaccount:{ns}:{sa}" if sa else "",
        )

    # -- dependencies ----------------------------------------------------------------------------

    async def reconcile_dependencies(self, req: Req) -> Result | None:
        """Wait until every dependsOn HelmRelease is Ready at its generation (or its readyExpr holds)."""
        for ref, ready_expr in dependencies.refs(req.obj):
            dep = await req.client.get_or_none(HELMRELEASES, ref[1], ref[0])
            try:
                problem = dependencies.problem(dep, ref, obj=req.obj, ready_expr=ready_expr)
            except dependencies.InvalidReadyExpr as exc:
                raise StallingError(meta.INVALID_CEL_EXPRESSION, f"{meta.TERMINAL_ERROR}: {exc}") from None
            if problem is not None:
                await req.recorder.emit(req.obj, NORMAL, meta.DEPENDENCY_NOT_READY, problem)
                raise WaitingError(meta.DEPENDENCY_NOT_READY, problem, self.requeue_dependency)
        return None

    def _allow(self, req: Req, kind: str, namespace: str, name: str) -> None:
        """--no-cross-namespace-refs: a source in another namespace is refused (AccessDenied, stalled)."""
        if self.no_cross_namespace_refs and namespace != req.namespace:
            message = f"cross-namespace references are not allowed: cannot access {kind} {namespace}/{name}"
            raise StallingError(meta.ACCESS_DENIED, message)

    # -- chart -----------------------------------------------------------------------------------

    async def reconcile_chart(self, req: Req) -> Result | None:
        """Get the chart: the HelmChart made from spec.chart, or the chartRef; download and check its archive."""
        spec = req.spec
        if spec.get("chart") and spec.get("chartRef"):
            raise StallingError(hc.INVALID_CHART_REFERENCE, "spec.chart and spec.chartRef are mutually exclusive")
        if spec.get("chart"):
            source = await self._ensure_chart(req)
        elif spec.get("chartRef"):
            await self._delete_chart_template(req)
            ref = spec["chartRef"]
            res = CHART_REFS.get(str(ref.get("kind")))
            if res is None:
                raise StallingError(hc.INVALID_CHART_REFERENCE, f"unsupported chartRef kind '{ref.get('kind')}'")
            ns = ref.get("namespace") or req.namespace
            self._allow(req, str(ref.get("kind")), ns, str(ref.get("name")))
            informer = self.sources.get(str(ref.get("kind")))
            if informer is not None:
                found = informer.get(ns, str(ref.get("name")))
            else:
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
        try:
            released = chartref.with_source_revision(
                str(source["kind"]), str(artifact.get("revision") or ""), str(chart.get("version"))
            )
        except chartref.ChartVersionError as exc:
            raise GenericError(hc.CHART_MUTATE_ERROR, str(exc)) from None
        req.state.chart_path, req.state.chart = path, chart
        req.state.chart_version, req.state.oci_digest = released.version, released.digest
        return None

    def _unchanged_chart(self, ns: str, name: str, body: Obj) -> Obj | None:
        """The watched HelmChart when this process last applied exactly `body` and every field of it still holds
        (someone else's change to one of them is applied over again, as Flux does); else None."""
        informer = self.sources.get("HelmChart")
        if informer is None or self._applied_charts.get((ns, name)) != body:
            return None
        cached = informer.get(ns, name)
        if cached is None:
            return None
        meta_, spec = cached.get("metadata") or {}, cached.get("spec") or {}
        for key in ("labels", "annotations"):
            have = meta_.get(key) or {}
            if any(have.get(k) != v for k, v in (body["metadata"].get(key) or {}).items()):
                return None
        if any(spec.get(k) != v for k, v in body["spec"].items()):
            return None
        return cached

    async def _delete_chart_template(self, req: Req) -> None:
        """After a switch from spec.chart to spec.chartRef, the HelmChart made for spec.chart goes."""
        chart = str(req.status.get("helmChart") or "")
        if "/" not in chart:
            return
        ns, name = chart.split("/", 1)
        try:
            await req.client.delete(HELMCHARTS, name, ns)
        except ApiError as exc:
            if not exc.not_found:
                raise
        req.status.pop("helmChart", None)

    async def _ensure_chart(self, req: Req) -> Obj:
        template = req.spec["chart"]
        tspec = dict(template.get("spec") or {})
        source_ref = dict(tspec.get("sourceRef") or {})
        ns = source_ref.pop("namespace", None) or req.namespace
        name = hv.chart_object_name(req.obj)
        self._allow(req, "HelmChart", ns, name)
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
        req.status["helmChart"] = f"{ns}/{name}"
        cached = self._unchanged_chart(ns, name, body)
        if cached is not None:
            return cached  # applied before, as it is: no write
        applied = await req.client.apply(HELMCHARTS, body, field_manager=FIELD_MANAGER)
        self._applied_charts[(ns, name)] = body
        return applied

    # -- values ----------------------------------------------------------------------------------

    async def reconcile_values(self, req: Req) -> Result | None:
        """Compose the values: valuesFrom ConfigMaps and Secrets in order, then spec.values; their digest."""
        try:
            composed = await hv.resolve(req.client, req.namespace, req.spec, hv.helm_setter(self.lib))
        except hv.UnsupportedKindError as exc:
            raise StallingError(hc.INIT_FAILED, str(exc)) from None
        except hv.ValuesError as exc:
            raise GenericError(hc.INIT_FAILED, f"could not resolve chart values: {exc}") from None
        req.state.values, req.state.config_digest = composed, hv.digest(composed)
        return None

    # -- release ---------------------------------------------------------------------------------

    async def reconcile_release(self, req: Req) -> Result | None:
        """Run Helm's actions as Flux's atomic release does, until the release is in sync, out of retries or
        waiting for a requeue: each kind of action at most once, and a remediation ends the reconcile."""
        spec, status, chart = req.spec, req.status, req.state.chart
        if (spec.get("rollback") or {}).get("recreate"):
            req.log.info("warning: the .spec.rollback.recreate field is deprecated and has no effect (as in Flux)")
        try:  # spec.healthCheckExprs are checked here; Helm's wait evaluates them (libgotkhelm)
            ssa_status.validate_checks([ssa_status.check_from_spec(e) for e in spec.get("healthCheckExprs") or []])
        except ValueError as exc:
            raise StallingError(meta.INVALID_CEL_EXPRESSION, f"{meta.TERMINAL_ERROR}: {exc}") from None
        name, target = hv.release_name(req.obj), await self.release_target(req)
        if await self._release_target_moved(req, name, target):
            status.pop("history", None)
            status.pop("inventory", None)  # the old release's objects are gone with it
            hstatus.clear_failures(status)
            status.pop("storageNamespace", None)
        status["storageNamespace"] = target.storage_namespace
        desired = planner.Desired(
            str(chart["name"]),
            req.state.chart_version,
            req.state.config_digest,
            test_enabled=bool((spec.get("test") or {}).get("enable")),
        )
        attempt = (desired.chart_version, desired.config_digest, req.generation)
        last = (
            status.get("lastAttemptedRevision"),
            status.get("lastAttemptedConfigDigest"),
            status.get("lastAttemptedGeneration"),
        )
        reset = conditions.handle_annotation_request(req.obj, meta.RESET_REQUEST_ANNOTATION, "lastHandledResetAt")
        if attempt != last or reset:
            hstatus.clear_failures(status)
        status["lastAttemptedGeneration"] = req.generation
        status["lastAttemptedRevision"] = desired.chart_version
        status["lastAttemptedConfigDigest"] = req.state.config_digest
        if req.state.oci_digest:
            status["lastAttemptedRevisionDigest"] = req.state.oci_digest
        else:
            status.pop("lastAttemptedRevisionDigest", None)
        policy = planner.Policy.from_spec(spec)
        force = conditions.handle_annotation_request(req.obj, meta.FORCE_REQUEST_ANNOTATION, "lastHandledForceAt")
        previous: list[str] = []
        while True:
            rls = req.state.latest if req.state.latest_known else await self._latest(target, name)
            req.state.latest, req.state.latest_known = rls, False
            mem = hstatus.memory(status, force=force)
            desired = dataclasses.replace(desired, render_changed=self._render_changed(req))
            state = planner.release_state(hstatus.current(rls, status.get("history")), desired, mem, policy=policy)
            if state == planner.UNMANAGED:
                status.pop("history", None)  # no longer to be relied on (Flux's ClearHistory)
            drifts: list[diff.Drift] = []
            if state == planner.IN_SYNC and rls is not None and policy.detects_drift:
                drifts = await self._detect_drift(req, rls)
                state = planner.DRIFTED if drifts else state
            elif not policy.detects_drift:
                conditions.delete(req.obj, hc.DRIFTED)
            plan = planner.next_action(state, policy, mem)
            if plan.kind == planner.NONE:
                if state == planner.IN_SYNC:
                    self._in_sync(req)
                self._observe_rendering(req)
                return None
            if plan.kind == planner.STALL:
                remediation = policy.remediation(mem)
                failures = remediation.failures if remediation is not None else 0
                text = f"Failed to {mem.last_action or 'install'} after {failures} attempt(s)"
                if plan.stall_reason != hc.RETRIES_EXCEEDED:
                    text = f"Failed to perform remediation: {plan.reason}"
                raise StallingError(plan.stall_reason, text)
            kind = planner.action_type(plan.kind)
            if kind in previous:
                return self._requeue(req, policy, mem)
            if plan.kind == planner.CORRECT_DRIFT:
                await self._correct_drift(req, rls, drifts)
                previous.append(kind)
                continue
            action = actions.ACTIONS[plan.kind]
            failed = await self._run(req, action, self._context(req, target, name))
            self._observe_rendering(req)
            force = False
            if failed is not None and not failed.observed:
                if policy.retry(hstatus.memory(status)) is not None:
                    return self._requeue(req, policy, hstatus.memory(status))
                raise failed.error
            if kind == planner.REMEDIATE:
                mem = hstatus.memory(status)
                remediation = policy.remediation(mem)
                if policy.retry(mem) is not None or remediation is None or not remediation.exhausted:
                    return self._requeue(req, policy, mem)
                if remediation.strategy == planner.UNINSTALL and mem.last_action == planner.UPGRADE:
                    return self._requeue(req, policy, mem)
                text = f"Failed to {mem.last_action} after {remediation.failures} attempt(s)"
                raise StallingError(hc.RETRIES_EXCEEDED, text)
            previous.append(kind)

    async def _detect_drift(self, req: Req, rls: Release) -> list[diff.Drift]:
        """Compare the release's objects with the cluster (dry-run apply as helm-controller); report a drift as a
        Warning event and Drifted=True, its absence as Drifted=False. Returns the objects that drifted."""
        objects = drift.release_objects(rls.manifest, rls.name, rls.namespace)
        try:
            found = await diff.detect(
                req.state.cluster or req.client,
                objects,
                field_manager=FIELD_MANAGER,
                exclusions=drift.EXCLUSIONS,
                ignore=drift.ignore(req.spec),
            )
        except ApiError as exc:
            raise GenericError(
                "StateError", f"Could not determine release state: unable to determine cluster state: {exc}"
            ) from None
        drifted = diff.changed(found)
        where = f"{rls.namespace}/{rls.name}.v{rls.version}"
        if not drifted:
            conditions.mark_false(
                req.obj, hc.DRIFTED, hc.NO_DRIFT_DETECTED, "No drift detected against the cluster state"
            )
            return []
        text = drift.detected_message(where, drifted)
        await req.recorder.emit(req.obj, WARNING, hc.DRIFT_DETECTED, text)
        conditions.mark_true(req.obj, hc.DRIFTED, hc.DRIFT_DETECTED, text)
        return drifted

    async def _correct_drift(self, req: Req, rls: Release | None, drifts: Sequence[diff.Drift]) -> None:
        """Apply the drifted objects again (driftDetection.mode enabled); the outcome is an event."""
        if rls is None or not drifts:
            return
        req.progress("correcting cluster drift")
        done, errors = await diff.correct(req.state.cluster or req.client, drifts, field_manager=FIELD_MANAGER)
        where = f"{rls.namespace}/{rls.name}.v{rls.version}"
        if errors:
            await req.recorder.emit(
                req.obj, WARNING, hc.DRIFT_CORRECTION_FAILED, drift.failed_message(where, errors, done)
            )
        elif done:
            await req.recorder.emit(req.obj, NORMAL, hc.DRIFT_CORRECTED, drift.corrected_message(where, done))

    def _render_changed(self, req: Req) -> bool:
        """Flux's check for a new generation: the post-renderers or the common metadata differ from the digests
        recorded when the release was last made."""
        status = req.status
        if status.get("observedGeneration") == req.generation:
            return False
        return postrender.renderers_digest(req.obj) != str(
            status.get("observedPostRenderersDigest") or ""
        ) or postrender.common_metadata_digest(req.obj) != str(status.get("observedCommonMetadataDigest") or "")

    def _observe_rendering(self, req: Req) -> None:
        """Record the digests of spec.postRenderers and spec.commonMetadata the release now reflects."""
        for key, value in (
            ("observedPostRenderersDigest", postrender.renderers_digest(req.obj)),
            ("observedCommonMetadataDigest", postrender.common_metadata_digest(req.obj)),
        ):
            if value:
                req.status[key] = value
            else:
                req.status.pop(key, None)

    def _requeue(self, req: Req, policy: planner.Policy, mem: planner.Memory) -> Result | None:
        """Stop for now: after the RetryOnFailure interval, at once while remediation retries remain, else done."""
        retry = policy.retry(mem)
        if retry is not None:
            conditions.mark_reconciling(req.obj, meta.PROGRESSING_WITH_RETRY, f"retrying after {_go_duration(retry)}")
            return Result(success=False, requeue_after=retry)
        remediation = policy.remediation(mem)
        if remediation is None or not remediation.exhausted:
            message = conditions.get_message(req.obj, meta.READY) or "retrying"
            conditions.mark_reconciling(req.obj, meta.PROGRESSING_WITH_RETRY, message)
            return Result(success=False)
        conditions.delete(req.obj, meta.RECONCILING)
        return None

    def _in_sync(self, req: Req) -> None:
        """The release is in sync: a Remediated release matching the spec counts as upgraded, a stale failure of
        Released is turned into the success, and TestSuccess goes when tests are disabled."""
        history = req.status.get("history") or []
        latest = history[0] if history else {}
        where = f"release {latest.get('namespace')}/{latest.get('name')}.v{latest.get('version')}"
        chart = f"chart {latest.get('chartName')}@{latest.get('chartVersion')}"
        if conditions.is_true(req.obj, hc.REMEDIATED):
            conditions.delete(req.obj, hc.REMEDIATED)
            conditions.mark_true(
                req.obj, hc.RELEASED, hc.UPGRADE_SUCCEEDED, f"Helm upgrade succeeded for {where} with {chart}"
            )
        reason = conditions.get_reason(req.obj, hc.RELEASED)
        if not conditions.is_true(req.obj, hc.RELEASED) and latest:
            if reason == hc.INSTALL_FAILED:
                conditions.mark_true(
                    req.obj, hc.RELEASED, hc.INSTALL_SUCCEEDED, f"Helm install succeeded for {where} with {chart}"
                )
            elif reason == hc.UPGRADE_FAILED:
                conditions.mark_true(
                    req.obj, hc.RELEASED, hc.UPGRADE_SUCCEEDED, f"Helm upgrade succeeded for {where} with {chart}"
                )
        if not (req.spec.get("test") or {}).get("enable"):
            conditions.delete(req.obj, hc.TEST_SUCCESS)

    async def _release_target_moved(self, req: Req, name: str, target: Target) -> bool:
        """Flux's ReleaseTargetChanged: the storage namespace, release namespace, release name or (with the
        Reinstall strategy, the default) chart name differ from the release last made; the old release is then
        uninstalled before the new one is installed. Returns whether it moved."""
        status = req.status
        history = status.get("history") or []
        stored = str(status.get("storageNamespace") or "")
        if not stored or not history:
            return False
        cur = history[0]
        strategy = (req.spec.get("upgrade") or {}).get("chartNameChangeStrategy") or "Reinstall"
        if target.storage_namespace != stored:
            why = "storage namespace"
        elif target.namespace != cur.get("namespace"):
            why = "release namespace"
        elif name != cur.get("name"):
            why = "release name"
        elif str(req.state.chart.get("name")) != cur.get("chartName") and strategy == "Reinstall":
            why = "chart name"
        else:
            return False
        old = dataclasses.replace(target, namespace=str(cur.get("namespace")), storage_namespace=stored)
        req.progress(f"Uninstalling release {old.namespace}/{cur.get('name')}: its {why} changed")
        try:
            await self._helm(self.lib.uninstall, old, str(cur.get("name")), **options.uninstall(req.obj))
        except ReleaseNotFoundError:
            pass
        except HelmActionError as exc:
            raise GenericError(
                hc.UNINSTALL_FAILED, f"failed to uninstall the release whose {why} changed: {exc.message}"
            ) from None
        text = f"Uninstalled release {old.namespace}/{cur.get('name')}: its {why} changed"
        await req.recorder.emit(req.obj, NORMAL, hc.UNINSTALL_SUCCEEDED, text)
        return True

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
            chart_version=req.state.chart_version,
            values=req.state.values,
        )

    async def _run(self, req: Req, action: actions.ReleaseAction, run: actions.Run) -> Failure | None:
        """Run one action; record it in the status and as an event; return the failure (None on success)."""
        status = req.status
        req.progress(action.progress(run))
        if action.records_attempt:
            status["lastAttemptedReleaseAction"] = action.name
        before = req.state.latest  # what the plan was made from, read an instant ago
        started = time.monotonic()
        try:
            result = await action.run(run)
        except HelmActionError as exc:
            policy, mem = planner.Policy.from_spec(req.spec), hstatus.memory(status)
            text = action.failed(req.obj, run, exc, counts=not policy.ignores_test_failures(mem))
            await req.recorder.emit(req.obj, WARNING, action.failed_reason, text)
            after = await self._latest(run.target, run.name)
            observed = action.observed(before, after, exc)
            if observed and action.stores_release and after is not None:
                await self._record_inventory(req, after)
            return Failure(GenericError(action.failed_reason, text), observed)
        finally:
            if action.records_attempt:
                status["lastAttemptedReleaseActionDuration"] = _go_duration(time.monotonic() - started)
        text = action.succeeded(req.obj, result)
        if action.name != planner.UNINSTALL:  # the release as stored now: the next plan needs no read
            req.state.latest, req.state.latest_known = result, True
        if action.stores_release:
            await self._record_inventory(req, result)
        elif action.name == planner.UNINSTALL:
            status.pop("inventory", None)
        await req.recorder.emit(req.obj, NORMAL, action.event_reason or action.succeeded_reason, text)
        return None

    async def _record_inventory(self, req: Req, rls: Release) -> None:
        """status.inventory from a stored release: its objects, then its chart's CRDs (Flux's observeInventory)."""
        path = req.state.chart_path
        try:
            crds = await asyncio.to_thread(inventory.chart_crds, path) if path is not None else []
            cluster = req.state.cluster or req.client
            found, warnings = await inventory.entries(cluster, rls.manifest, rls.namespace, crds)
        except (OSError, tarfile.TarError, yaml.YAMLError) as exc:
            text = f"failed to build inventory for {req.namespace}/{req.name}: {exc}"
            await req.recorder.emit(req.obj, WARNING, hc.INVENTORY_BUILD_FAILED, text)
            return
        if warnings:
            await req.recorder.emit(req.obj, WARNING, hc.NAMESPACE_CHECK_SKIPPED, "; ".join(warnings))
        req.status["inventory"] = {"entries": found}

    async def finalize(self, req: Req) -> Result | None:
        name = hv.release_name(req.obj)
        try:
            target = await self.release_target(req)
        except GenericError as exc:
            cause = exc.__cause__
            if isinstance(cause, remote.KubeConfigError) and cause.not_found:
                # as Flux: without its kubeconfig Secret the release cannot be reached, so it is left in place
                await self._delete_chart_template(req)
                return None
            raise GenericError(
                hc.UNINSTALL_FAILED, f"failed to build REST client to uninstall release: {exc}"
            ) from None
        if await self._latest(target, name) is not None:
            try:
                await self._helm(self.lib.uninstall, target, name)
            except HelmActionError as exc:
                raise GenericError(hc.UNINSTALL_FAILED, str(exc)) from None
        await self._delete_chart_template(req)
        return None
