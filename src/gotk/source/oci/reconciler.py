"""The OCIRepository reconciler: storage, source, artifact — Flux's steps, in that order.

A no-change reconcile is one manifest HEAD (plus a tag listing for semver refs): when the remote
revision equals the stored artifact's and `ignore`/`layerSelector` are unchanged, no layer is
downloaded. The steps hand on an `OCIState`. Registry I/O is blocking and runs in threads
(`gotk.runtime.oci.client`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any, NoReturn

from gotk.api import meta, source_v1
from gotk.api import source_conditions as sc
from gotk.kube.resources import OCIREPOSITORIES
from gotk.runtime import artifacts, conditions
from gotk.runtime.oci import refs, spec
from gotk.runtime.oci import remote as ociremote
from gotk.runtime.oci.client import RegistryClient
from gotk.runtime.oci.model import Descriptor, Manifest, RegistryError
from gotk.runtime.reconciler import Request
from gotk.runtime.results import GenericError, Result, StallingError
from gotk.source import base, ignore
from gotk.source.oci import verify as verification
from gotk.source.storage import ArtifactDict, artifact_dir

Obj = dict[str, Any]
KIND = "OCIRepository"
STORAGE_KIND = "ocirepository"
LATEST = "latest.tar.gz"

CONDITIONS = base.condition_table(sc.SOURCE_VERIFIED)


def stored_message(revision: str) -> str:
    return f"stored artifact for digest '{revision}'"


def observed_settings(spec_: Obj) -> Obj:
    """The status fields recording which settings produced the current artifact."""
    return {"observedIgnore": spec_.get("ignore"), "observedLayerSelector": spec_.get("layerSelector")}


def settings_changed(obj: Obj) -> bool:
    status = obj.get("status") or {}
    return any(status.get(k) != v for k, v in observed_settings(obj.get("spec") or {}).items())


def layer_operation(spec_: Obj) -> str:
    return str((spec_.get("layerSelector") or {}).get("operation") or "extract")


def select_layer(manifest: Manifest, media_type: str) -> Descriptor:
    """The first layer, or the first with `media_type` (Flux's selectLayer); ValueError otherwise."""
    layers = manifest.layers
    if not layers:
        raise ValueError("no layers found in artifact")
    if not media_type:
        return layers[0]
    for layer in layers:
        if layer.media_type == media_type:
            return layer
    raise ValueError(f"failed to find layer with media type '{media_type}' in artifact")


def _fail(req: Request[Any], reason: str, message: str, *, condition: str = sc.FETCH_FAILED) -> NoReturn:
    conditions.mark_true(req.obj, condition, reason, message)
    raise GenericError(reason, message)


@dataclasses.dataclass
class OCIState:
    """What the OCIRepository steps hand on: the revision and, unless it is unchanged, the pulled layer (the
    blob for `copy`, its extracted content for `extract`) and the manifest's annotations."""

    revision: str | None = None
    unchanged: bool = False
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    blob: Path | None = None
    content: Path | None = None
    operation: str = ""


class OCIRepositoryReconciler(base.ArtifactSource[OCIState]):
    """Turns an OCIRepository into a tar.gz artifact of one OCI artifact layer."""

    storage_kind = STORAGE_KIND
    spec_model = source_v1.OCIRepositorySpec
    resource = OCIREPOSITORIES
    condition_table = CONDITIONS

    def new_state(self) -> OCIState:
        """A fresh step state for one reconcile."""
        return OCIState()

    def stored_message(self, revision: str) -> str:
        return stored_message(revision)

    # -- steps -----------------------------------------------------------------------------------

    async def reconcile_storage(self, req: Request[Any]) -> Result | None:
        """Drop a status.artifact whose file vanished, refresh the URLs, and note a missing artifact."""
        artifact: Obj | None = req.status.get("artifact")
        missing = artifact is not None and not await asyncio.to_thread(self.storage.exists, artifact)
        if missing:
            req.status.pop("artifact", None)
            req.status.pop("url", None)
        if not artifact or missing:
            conditions.delete(req.obj, sc.ARTIFACT_IN_STORAGE)
            message = "building artifact: disappeared from storage" if missing else "building artifact"
            conditions.mark_reconciling(req.obj, meta.PROGRESSING, message)
            return None
        artifact["url"] = self.storage.url_for(artifact["path"])
        if req.status.get("url"):
            req.status["url"] = self.storage.url_for(f"{artifact_dir(STORAGE_KIND, req.namespace, req.name)}/{LATEST}")
        conditions.mark_true(req.obj, sc.ARTIFACT_IN_STORAGE, meta.SUCCEEDED, stored_message(artifact["revision"]))
        return None

    async def reconcile_source(self, req: Request[OCIState]) -> Result | None:
        """Resolve the ref to a digest; pull and unpack the layer only when something changed."""
        spec_ = req.spec
        url = str(spec_.get("url") or "")
        if conditions.is_false(req.obj, sc.SOURCE_VERIFIED):
            conditions.delete(req.obj, sc.SOURCE_VERIFIED)
        try:
            repo = refs.parse_repository_url(url)
        except refs.ReferenceError as exc:
            message = f"URL validation failed for '{url}': {exc}"
            conditions.mark_true(req.obj, sc.FETCH_FAILED, sc.URL_INVALID, message)
            raise StallingError(sc.URL_INVALID, message) from None
        try:
            client = await ociremote.registry_client(
                req.client, req.namespace, spec_, repo.registry, timeout=self.timeout(req.obj)
            )
        except ociremote.UnsupportedProviderError as exc:
            conditions.mark_true(req.obj, sc.FETCH_FAILED, sc.AUTHENTICATION_FAILED, str(exc))
            raise StallingError(sc.AUTHENTICATION_FAILED, str(exc)) from None
        except ociremote.RemoteConfigError as exc:
            _fail(req, sc.AUTHENTICATION_FAILED, str(exc))

        list_tags = functools.partial(client.list_tags, repo.repository)
        try:
            media_type = str((spec_.get("layerSelector") or {}).get("mediaType") or "")
            ref = await asyncio.to_thread(
                refs.select_reference, repo, spec_.get("ref"), list_tags, media_type=media_type
            )
        except (refs.ReferenceError, RegistryError) as exc:
            reason = sc.READ_OPERATION_FAILED  # as Flux, a rejected credential included
            _fail(req, reason, f"failed to determine the artifact tag for '{url}': {exc}")
        try:
            digest = ref.digest or await asyncio.to_thread(client.resolve, repo.repository, ref.tag)
        except RegistryError as exc:
            reason = sc.OCI_PULL_FAILED  # as Flux, a rejected credential included
            _fail(req, reason, f"failed to determine artifact digest: {exc}")
        revision = digest if ref.digest else f"{ref.tag}@{digest}"
        artifact: Obj | None = req.status.get("artifact")
        has_revision = artifact is not None and artifact.get("revision") == revision
        if not has_revision:
            message = f"new revision '{revision}' for '{ref}'"
            if artifact:
                conditions.mark_true(req.obj, sc.ARTIFACT_OUTDATED, sc.NEW_REVISION, message)
            conditions.mark_reconciling(req.obj, meta.PROGRESSING, f"building artifact: {message}")

        verify = spec_.get("verify")
        if not verify:
            conditions.delete(req.obj, sc.SOURCE_VERIFIED)
        elif not has_revision or (conditions.get(req.obj, sc.SOURCE_VERIFIED) or {}).get(
            "observedGeneration"
        ) != req.obj["metadata"].get("generation"):
            await verification.verify_cosign(req, client, repo.repository, digest, revision, verify)

        req.state.revision = revision
        if has_revision and not settings_changed(req.obj):
            conditions.delete(req.obj, sc.FETCH_FAILED)
            req.state.unchanged = True
            return None
        await self._pull(req, client, repo, digest, url)
        conditions.delete(req.obj, sc.FETCH_FAILED)
        return None

    async def _pull(
        self, req: Request[OCIState], client: RegistryClient, repo: refs.Reference, digest: str, url: str
    ) -> None:
        """Fetch the manifest and the selected layer; extract it, or keep it for `copy`."""
        try:
            manifest = await asyncio.to_thread(client.get_manifest, repo.repository, digest)
        except RegistryError as exc:
            reason = sc.OCI_PULL_FAILED  # as Flux, a rejected credential included
            _fail(req, reason, f"failed to pull artifact from '{url}': {exc}")
        if manifest.is_index:
            _fail(req, sc.OCI_LAYER_OPERATION_FAILED, "failed to parse artifact manifest: got an image index")
        selector = req.spec.get("layerSelector") or {}
        try:
            layer = select_layer(manifest, str(selector.get("mediaType") or ""))
        except ValueError as exc:
            _fail(req, sc.OCI_LAYER_OPERATION_FAILED, str(exc))
        operation = layer_operation(req.spec)
        if operation not in ("extract", "copy"):
            _fail(req, sc.OCI_LAYER_OPERATION_FAILED, f"unsupported layer operation: {operation}")
        workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="ocirepository-"))
        req.defer(lambda: shutil.rmtree(workdir, ignore_errors=True))
        blob = workdir / "layer.tgz"
        try:
            await asyncio.to_thread(client.fetch_blob, repo.repository, layer.digest, blob)
        except (RegistryError, OSError) as exc:
            reason = sc.OCI_PULL_FAILED  # as Flux, a rejected credential included
            _fail(req, reason, f"failed to pull artifact from '{url}': {exc}")
        content = workdir / "content"
        if operation == "extract":
            try:
                await asyncio.to_thread(artifacts.safe_extract, blob, content, max_size=None)
            except (artifacts.ArtifactError, OSError) as exc:
                _fail(req, sc.OCI_LAYER_OPERATION_FAILED, f"failed to extract layer contents from artifact: {exc}")
        req.state.metadata = dict(manifest.annotations)
        req.state.blob, req.state.content, req.state.operation = blob, content, operation

    async def reconcile_artifact(self, req: Request[OCIState]) -> Result | None:
        """Archive the layer contents (minus ignored files), or copy the layer, as `<digest>.tar.gz`."""
        revision = base.required(req.state.revision, "the revision")
        if req.state.unchanged:
            conditions.delete(req.obj, sc.ARTIFACT_OUTDATED)
            conditions.mark_true(req.obj, sc.ARTIFACT_IN_STORAGE, meta.SUCCEEDED, stored_message(revision))
            await self.gc(req, req.status["artifact"]["path"])
            return None
        filename = f"{revision.rsplit('@', 1)[-1]}.tar.gz"
        ns, name = req.namespace, req.name
        try:
            if req.state.operation == "copy":
                blob = base.required(req.state.blob, "the layer blob")
                artifact = await asyncio.to_thread(
                    self.storage.copy_file, blob, STORAGE_KIND, ns, name, filename, revision=revision
                )
            else:
                content = base.required(req.state.content, "the layer content")
                matcher = await asyncio.to_thread(ignore.build_matcher, content, req.spec.get("ignore"))
                artifact = await asyncio.to_thread(
                    self.storage.archive_dir,
                    content,
                    STORAGE_KIND,
                    ns,
                    name,
                    filename,
                    exclude=matcher,
                    revision=revision,
                )
        except (OSError, ValueError) as exc:
            verb = "copy" if req.state.operation == "copy" else "archive"
            message = f"unable to {verb} artifact to storage: {exc}"
            _fail(req, sc.ARCHIVE_OPERATION_FAILED, message, condition=sc.STORAGE_OPERATION_FAILED)
        metadata = req.state.metadata
        if metadata:
            artifact["metadata"] = metadata
        previous_digest = (req.status.get("artifact") or {}).get("digest")
        req.status["artifact"] = dict(artifact)
        for key, value in observed_settings(req.spec).items():
            if value is None:
                req.status.pop(key, None)
            else:
                req.status[key] = value
        try:
            req.status["url"] = await asyncio.to_thread(self.storage.symlink, artifact, LATEST)
        except OSError as exc:
            req.log.warning("failed to update status URL symlink: %s", exc)
        conditions.delete(req.obj, sc.STORAGE_OPERATION_FAILED)
        conditions.delete(req.obj, sc.ARTIFACT_OUTDATED)
        conditions.mark_true(req.obj, sc.ARTIFACT_IN_STORAGE, meta.SUCCEEDED, stored_message(revision))
        if previous_digest != artifact["digest"]:
            await self._announce(req, artifact, metadata)
        await self.gc(req, artifact["path"])
        return None

    async def _announce(self, req: Request[Any], artifact: ArtifactDict, metadata: dict[str, str]) -> None:
        message = f"stored artifact with revision '{artifact.get('revision')}' from '{req.spec.get('url')}'"
        source, origin = metadata.get(spec.SOURCE_ANNOTATION), metadata.get(spec.REVISION_ANNOTATION)
        if source and origin:
            message += f", origin source '{source}', origin revision '{origin}'"
        await self.announce(req, "NewArtifact", message, artifact)
