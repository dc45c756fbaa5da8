"""The HelmChart reconciler: storage, source, artifact — Flux's steps, in that order.

From a HelmRepository (HTTP/S) the chart version is chosen in the repository's stored index (`spec.version`,
default `*`) and the chart is pulled with the repository's credentials; from a GitRepository or a Bucket the
chart directory `spec.chart` of the source artifact is packaged (`.helmignore`, local `file://` dependencies).
`valuesFiles` are merged into the chart's values.yaml. The artifact is `<chart>-<version>.tgz`, its revision
the chart version (`+<generation>` with values files from a HelmRepository, `+<source revision[:12]>` with
the Revision strategy), and `status.url` the stable `latest.tar.gz` link. Nothing is fetched or written when
the source revision, the resolved version and the generation are unchanged. The steps hand on a
`HelmChartState`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Any, NoReturn

from gotk.api import source_conditions as sc
from gotk.api import source_v1_helm
from gotk.kube.errors import ApiError
from gotk.kube.resources import BUCKETS, GITREPOSITORIES, HELMCHARTS, HELMREPOSITORIES, Resource
from gotk.runtime import artifacts, conditions
from gotk.runtime.chartarchive import (
    CHART_PACKAGE_ERROR,
    CHART_PULL_ERROR,
    INVALID_CHART_REFERENCE,
    ChartError,
    metadata_from_archive,
)
from gotk.runtime.oci.model import RegistryError
from gotk.runtime.reconciler import Request
from gotk.runtime.results import GenericError, Result, StallingError, WaitingError
from gotk.source import base
from gotk.source.helm import chart as helmchart
from gotk.source.helm import http as helmhttp
from gotk.source.helm import index as helmindex
from gotk.source.helm import oci as helmoci
from gotk.source.helm import remote
from gotk.source.helm.repository_reconciler import is_oci
from gotk.source.oci import verify as verification
from gotk.source.storage import Storage

Obj = dict[str, Any]
KIND = "HelmChart"
STORAGE_KIND = "helmchart"
LATEST_LINK = "latest.tar.gz"
SOURCE_UNAVAILABLE = "SourceUnavailable"
NO_SOURCE_ARTIFACT = "NoSourceArtifact"
NEW_CHART = "NewChart"
PULL_SUCCEEDED, PACKAGE_SUCCEEDED = "ChartPullSucceeded", "ChartPackageSucceeded"
SOURCES: dict[str, Resource] = {
    "HelmRepository": HELMREPOSITORIES,
    "GitRepository": GITREPOSITORIES,
    "Bucket": BUCKETS,
}

CONDITIONS = base.condition_table(sc.BUILD_FAILED, sc.SOURCE_VERIFIED)


def source_key(obj: Obj) -> tuple[str, str, str]:
    """(kind, namespace, name) of the HelmChart's source (always in its own namespace)."""
    ref = (obj.get("spec") or {}).get("sourceRef") or {}
    return (str(ref.get("kind", "")), (obj.get("metadata") or {}).get("namespace") or "", str(ref.get("name", "")))


def revision_digest(revision: str) -> str:
    """The hex part of a source revision (`main@sha1:<hex>` or `sha256:<hex>`)."""
    return revision.rpartition(":")[2] or revision


@dataclasses.dataclass
class HelmChartState:
    """What the HelmChart steps hand on: the source artifact's revision and, unless the chart is unchanged,
    the pulled or packaged chart with its revision, the event's reason and verb and the values files found."""

    unchanged: bool = False
    source_revision: str | None = None
    chart: Path | None = None
    revision: str | None = None
    reason: str = ""
    verb: str = ""
    observed_values: list[str] | None = None

    def built(
        self,
        chart: Path,
        revision: str,
        reason: str,
        verb: str,
        *,
        observed_values: list[str] | None,
        source_revision: str | None,
    ) -> None:
        """Record the pulled or packaged chart for the artifact step."""
        self.chart, self.revision, self.reason, self.verb = chart, revision, reason, verb
        self.observed_values, self.source_revision = observed_values, source_revision


class HelmChartReconciler(base.ArtifactSource[HelmChartState]):
    """Pulls or packages a Helm chart into a `.tgz` artifact served by the storage server."""

    storage_kind = STORAGE_KIND
    spec_model = source_v1_helm.HelmChartSpec
    resource = HELMCHARTS
    condition_table = CONDITIONS

    def __init__(self, storage: Storage, *, requeue_dependency: float = 30.0) -> None:
        super().__init__(storage)
        self.requeue_dependency = requeue_dependency

    def new_state(self) -> HelmChartState:
        """A fresh step state for one reconcile."""
        return HelmChartState()

    # -- source --------------------------------------------------------------------------------------

    async def reconcile_source(self, req: Request[HelmChartState]) -> Result | None:
        """Get the source, then pull (HelmRepository) or package (Git, Bucket) the chart unless it is unchanged."""
        kind, namespace, name = source_key(req.obj)
        resource = SOURCES.get(kind)
        if resource is None:
            self._stall(req, sc.FETCH_FAILED, INVALID_CHART_REFERENCE, f"unsupported source kind '{kind}'")
        try:
            source = await req.client.get(resource, name, namespace)
        except ApiError as exc:
            message = f"failed to get source: {kind} '{namespace}/{name}': {exc.reason or exc.status}"
            conditions.mark_true(req.obj, sc.FETCH_FAILED, SOURCE_UNAVAILABLE, message)
            raise GenericError(SOURCE_UNAVAILABLE, message) from None
        oci = kind == "HelmRepository" and is_oci(source)
        artifact: Obj = (source.get("status") or {}).get("artifact") or {}
        if not oci and (not artifact or not await asyncio.to_thread(self.storage.exists, artifact)):
            message = f"no artifact available for {kind} source '{name}'"
            raise WaitingError(NO_SOURCE_ARTIFACT, message, self.requeue_dependency)
        conditions.delete(req.obj, sc.FETCH_FAILED)
        workdir = Path(tempfile.mkdtemp(prefix=f"helmchart-{req.namespace}-{req.name}-"))
        req.defer(lambda: shutil.rmtree(workdir, ignore_errors=True))
        try:
            if oci:
                await self._from_oci(req, source, workdir)
            elif kind == "HelmRepository":
                await self._from_repository(req, source, artifact, workdir)
            else:
                await self._from_tarball(req, artifact, workdir)
        except helmhttp.HelmAuthError as exc:
            message = f"failed to construct Helm client's TLS config or credentials: {exc}"
            conditions.mark_true(req.obj, sc.FETCH_FAILED, sc.AUTHENTICATION_FAILED, message)
            raise GenericError(sc.AUTHENTICATION_FAILED, message) from None
        except ChartError as exc:
            if exc.reason == INVALID_CHART_REFERENCE:
                self._stall(req, sc.BUILD_FAILED, exc.reason, f"invalid chart reference: {exc}")
            conditions.mark_true(req.obj, sc.BUILD_FAILED, exc.reason, str(exc))
            raise GenericError(exc.reason, str(exc)) from None
        conditions.delete(req.obj, sc.BUILD_FAILED)
        return None

    def _unchanged(self, req: Request[HelmChartState], revision: str, source_revision: str | None) -> bool:
        """Whether the stored artifact is `revision` of this chart and generation; if so, the state says so."""
        artifact = req.status.get("artifact") or {}
        same = (
            artifact.get("revision") == revision
            and req.status.get("observedGeneration") == req.generation
            and req.status.get("observedChartName") == req.spec.get("chart")
        )
        if same:
            req.state.unchanged, req.state.source_revision = True, source_revision
        return same

    async def _from_repository(
        self, req: Request[HelmChartState], repo: Obj, repo_artifact: Obj, workdir: Path
    ) -> None:
        """Pick the chart version in the HelmRepository's stored index and download it."""
        spec = req.spec
        name = str(spec.get("chart") or "")
        try:
            data = await asyncio.to_thread(self.storage.local_path(repo_artifact["path"]).read_bytes)
            index = await asyncio.to_thread(helmindex.load, data)
            entry = helmindex.select(index, name, spec.get("version"))
        except (OSError, helmindex.IndexFormatError) as exc:
            raise ChartError(CHART_PULL_ERROR, f"failed to load repository index: {exc}") from None
        except helmindex.ChartNotFoundError as exc:
            raise ChartError(INVALID_CHART_REFERENCE, str(exc)) from None
        version = str(entry["version"])
        values_files = list(spec.get("valuesFiles") or [])
        revision = f"{version}+{req.generation}" if values_files else version
        if self._unchanged(req, revision, repo_artifact["revision"]):
            return
        opts = await remote.http_options(
            req.client, req.namespace, repo, timeout=source_v1_helm.repository_timeout(repo)
        )
        url = helmindex.chart_url(opts.url, entry)
        try:
            tgz = await helmhttp.download(opts, url, max_size=helmindex.MAX_CHART_SIZE)
        except helmhttp.HelmFetchError as exc:
            raise ChartError(CHART_PULL_ERROR, f"failed to pull chart: {exc}") from None
        path = workdir / f"{name}-{version}.tgz"
        await asyncio.to_thread(path.write_bytes, tgz)
        await self._pulled(req, path, helmhttp.redact(url), revision, repo_artifact["revision"])

    async def _from_oci(self, req: Request[HelmChartState], repo: Obj, workdir: Path) -> None:
        """Pick the chart version among the OCI repository's tags, verify it as `spec.verify` asks, and pull it."""
        spec = req.spec
        name = str(spec.get("chart") or "")
        registry, repository = await remote.oci_client(
            req.client, req.namespace, repo, name, timeout=source_v1_helm.repository_timeout(repo)
        )
        try:
            tags = await asyncio.to_thread(registry.list_tags, repository)
            version, tag = helmoci.select_tag(tags, name, spec.get("version"))
        except RegistryError as exc:
            raise ChartError(CHART_PULL_ERROR, f"failed to list chart versions: {exc}") from None
        except helmindex.ChartNotFoundError as exc:
            raise ChartError(INVALID_CHART_REFERENCE, str(exc)) from None
        revision = f"{version}+{req.generation}" if spec.get("valuesFiles") else version
        unchanged = self._unchanged(req, revision, None)
        verify = spec.get("verify")
        if not verify:
            conditions.delete(req.obj, sc.SOURCE_VERIFIED)
        elif not unchanged or (conditions.get(req.obj, sc.SOURCE_VERIFIED) or {}).get("observedGeneration") != (
            req.generation
        ):
            try:
                digest = await asyncio.to_thread(registry.resolve, repository, tag)
            except RegistryError as exc:
                raise ChartError(CHART_PULL_ERROR, f"failed to resolve chart: {exc}") from None
            await verification.verify_cosign(req, registry, repository, digest, version, verify)
        if unchanged:
            return
        path = workdir / f"{name}-{version}.tgz"
        try:
            await asyncio.to_thread(helmoci.pull_tag, registry, repository, tag, path)
        except RegistryError as exc:
            raise ChartError(CHART_PULL_ERROR, f"failed to pull chart: {exc}") from None
        await self._pulled(req, path, f"oci://{registry.registry}/{repository}:{tag}", revision, None)

    async def _pulled(
        self, req: Request[HelmChartState], path: Path, where: str, revision: str, source_revision: str | None
    ) -> None:
        """Check a pulled chart archive; repackage it with the values files when there are any."""
        spec = req.spec
        name = str(spec.get("chart") or "")
        chart_meta = await asyncio.to_thread(metadata_from_archive, path.read_bytes())
        if chart_meta.get("name") != name:
            message = f"chart archive at {where} is chart '{chart_meta.get('name')}', not '{name}'"
            raise ChartError(CHART_PULL_ERROR, message)
        reason, verb, observed = PULL_SUCCEEDED, "pulled", None
        values_files = list(spec.get("valuesFiles") or [])
        if values_files:
            ignore_missing = bool(spec.get("ignoreMissingValuesFiles"))
            path, observed = await asyncio.to_thread(
                self._repackage, path, path.parent, revision, values_files, ignore_missing
            )
            reason, verb = PACKAGE_SUCCEEDED, "packaged"
        req.state.built(path, revision, reason, verb, observed_values=observed, source_revision=source_revision)

    def _repackage(
        self, path: Path, workdir: Path, version: str, values_files: list[str], ignore_missing: bool
    ) -> tuple[Path, list[str] | None]:
        """Unpack a pulled chart and package it again with the merged values files."""
        extracted = workdir / "pulled"
        artifacts.safe_extract(path, extracted, max_size=helmindex.MAX_CHART_SIZE * 10)
        dirs = [d for d in extracted.iterdir() if d.is_dir()]
        if len(dirs) != 1:
            raise ChartError(CHART_PACKAGE_ERROR, "chart archive has no single chart directory")
        return self._package(dirs[0], extracted, workdir, version, values_files, ignore_missing, values_root=dirs[0])

    def _package(
        self,
        chart_dir: Path,
        root: Path,
        workdir: Path,
        version: str | None,
        values_files: list[str],
        ignore_missing: bool,
        *,
        values_root: Path,
    ) -> tuple[Path, list[str] | None]:
        """Package a chart directory (with the merged values files); return it and the values files found."""
        values = None
        observed: list[str] | None = None
        if values_files:
            values, found = helmchart.merge_values_files(values_root, values_files, ignore_missing=ignore_missing)
            observed = found if ignore_missing else None
        path, _ = helmchart.package_dir(chart_dir, workdir / "out", root=root, version=version, values=values)
        return path, observed

    async def _from_tarball(self, req: Request[HelmChartState], source_artifact: Obj, workdir: Path) -> None:
        """Package the chart directory `spec.chart` of a GitRepository's or Bucket's artifact."""
        spec = req.spec
        source_revision = str(source_artifact.get("revision") or "")
        if (
            req.status.get("observedSourceArtifactRevision") == source_revision
            and req.status.get("artifact")
            and self._unchanged(req, req.status["artifact"]["revision"], source_revision)
        ):
            return
        root = workdir / "source"
        archive = self.storage.local_path(source_artifact["path"])
        try:
            await asyncio.to_thread(artifacts.safe_extract, archive, root)
        except (OSError, artifacts.UnsafeArchiveError) as exc:
            raise ChartError(CHART_PACKAGE_ERROR, f"failed to extract source: {exc}") from None
        rel = str(spec.get("chart") or "").strip()
        chart_dir = (root / rel.lstrip("/")).resolve()
        if not chart_dir.is_relative_to(root.resolve()):
            raise ChartError(INVALID_CHART_REFERENCE, f"chart path '{rel}' leaves the source")
        if not chart_dir.is_dir():
            raise ChartError(INVALID_CHART_REFERENCE, f"no chart directory at path '{rel}'")
        chart_meta = await asyncio.to_thread(helmchart.metadata_from_dir, chart_dir)
        metadata: list[str] = []
        if spec.get("reconcileStrategy") == "Revision":
            metadata.append(revision_digest(source_revision)[:12])
        values_files = list(spec.get("valuesFiles") or [])
        if values_files:
            metadata.append(str(req.generation))
        version = str(chart_meta["version"]) + (f"+{'.'.join(metadata)}" if metadata else "")
        if self._unchanged(req, version, source_revision):
            return
        ignore_missing = bool(spec.get("ignoreMissingValuesFiles"))
        path, observed = await asyncio.to_thread(
            self._package, chart_dir, root, workdir, version, values_files, ignore_missing, values_root=root
        )
        req.state.built(
            path, version, PACKAGE_SUCCEEDED, "packaged", observed_values=observed, source_revision=source_revision
        )

    def _stall(self, req: Request[Any], condition: str, reason: str, message: str) -> NoReturn:
        conditions.mark_true(req.obj, condition, reason, message)
        raise StallingError(reason, message)

    # -- artifact ------------------------------------------------------------------------------------

    async def reconcile_artifact(self, req: Request[HelmChartState]) -> Result | None:
        """Store the chart as `<name>-<version>.tgz`, point `latest.tar.gz` at it and record the observed fields."""
        spec = req.spec
        state = req.state
        if state.unchanged:
            artifact = req.status["artifact"]
            message = f"{self._verb(req)} '{spec.get('chart')}' chart with version '{artifact['revision']}'"
            reason = PULL_SUCCEEDED if self._verb(req) == "pulled" else PACKAGE_SUCCEEDED
        else:
            path = base.required(state.chart, "the chart")
            revision = base.required(state.revision, "the chart revision")
            name = str(metadata_from_archive(path.read_bytes())["name"])
            if revision != req.status.get("artifact", {}).get("revision"):
                self.outdated(req, f"new chart version '{revision}'", NEW_CHART)
            artifact = await self.store(
                req,
                "copy Helm chart",
                self.storage.copy_file,
                path,
                STORAGE_KIND,
                req.namespace,
                req.name,
                f"{name}-{revision}.tgz",
                revision=revision,
            )
            req.status["artifact"] = artifact
            reason = state.reason
            message = f"{state.verb} '{name}' chart with version '{revision}'"
            await self.announce(req, reason, message, artifact)
            observed = state.observed_values
            if observed is None:
                req.status.pop("observedValuesFiles", None)
            else:
                req.status["observedValuesFiles"] = observed
        req.status["observedChartName"] = spec.get("chart")
        if state.source_revision:
            req.status["observedSourceArtifactRevision"] = state.source_revision
        else:
            req.status.pop("observedSourceArtifactRevision", None)
        await self.link(req, artifact, LATEST_LINK)
        conditions.delete(req.obj, sc.STORAGE_OPERATION_FAILED)
        conditions.delete(req.obj, sc.ARTIFACT_OUTDATED)
        conditions.mark_true(req.obj, sc.ARTIFACT_IN_STORAGE, reason, message)
        await self.gc(req, artifact["path"])
        return None

    def _verb(self, req: Request[Any]) -> str:
        """How the chart came to be: pulled as is, or packaged (from a source, or with values files)."""
        kind = source_key(req.obj)[0]
        return "pulled" if kind == "HelmRepository" and not req.spec.get("valuesFiles") else "packaged"

    def stored_message(self, revision: str) -> str:
        return f"stored artifact for revision '{revision}'"
