"""The Bucket reconciler: storage, source, artifact — Flux's steps, in that order.

A no-change reconcile is one bucket listing: when the index revision equals the stored artifact's
and `spec.ignore` is unchanged, nothing is downloaded. Providers `generic` and `aws` speak S3
through `gotk.source.bucket.s3` (blocking, run in threads); `gcp` and `azure` stall. The steps hand on a
`BucketState`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Any, Final, NoReturn

from gotk.api import meta, source_v1
from gotk.api import source_conditions as sc
from gotk.kube.resources import BUCKETS
from gotk.runtime import conditions
from gotk.runtime.reconciler import Request
from gotk.runtime.results import GenericError, Result, StallingError
from gotk.runtime.secrets import SecretError, optional_secret
from gotk.source import base
from gotk.source.bucket import index as objindex
from gotk.source.bucket import s3

Obj = dict[str, Any]
KIND = "Bucket"
STORAGE_KIND = "bucket"
S3_PROVIDERS: Final = ("generic", "aws")
UNSUPPORTED_PROVIDERS: Final = ("gcp", "azure")
ACCESS_KEY, SECRET_KEY = "accesskey", "secretkey"

CONDITIONS = base.condition_table()


def stored_message(revision: str) -> str:
    return f"stored artifact for revision '{revision}'"


def settings_changed(obj: Obj) -> bool:
    """Whether `spec.ignore` differs from the one that produced the current artifact."""
    return (obj.get("status") or {}).get("observedIgnore") != (obj.get("spec") or {}).get("ignore")


@dataclasses.dataclass
class BucketState:
    """What the Bucket steps hand on: unless the index revision is unchanged, the downloaded objects, their
    index and its revision."""

    unchanged: bool = False
    objects_dir: Path | None = None
    index: objindex.Index = dataclasses.field(default_factory=dict)
    revision: str | None = None


class BucketReconciler(base.ArtifactSource[BucketState]):
    """Turns a Bucket into a tar.gz artifact of its (filtered) objects, served by the storage server."""

    storage_kind = STORAGE_KIND
    spec_model = source_v1.BucketSpec
    resource = BUCKETS
    condition_table = CONDITIONS

    def new_state(self) -> BucketState:
        """A fresh step state for one reconcile."""
        return BucketState()

    # -- steps -----------------------------------------------------------------------------------

    async def reconcile_source(self, req: Request[BucketState]) -> Result | None:
        """List the bucket into an index; download the objects only when its revision or the settings changed."""
        spec = req.spec
        cfg = await self._s3_config(req)
        try:
            index = await asyncio.to_thread(
                s3.fetch_index, cfg, prefix=spec.get("prefix") or None, spec_ignore=spec.get("ignore")
            )
        except s3.BucketError as exc:
            self._fetch_failed(req, exc)
        artifact = req.status.get("artifact")
        if artifact and objindex.revision_matches(index, artifact.get("revision")) and not settings_changed(req.obj):
            conditions.delete(req.obj, sc.FETCH_FAILED)
            req.state.unchanged = True
            return None
        workdir = Path(tempfile.mkdtemp(prefix=f"bucket-{req.namespace}-{req.name}-"))
        req.defer(lambda: shutil.rmtree(workdir, ignore_errors=True))
        objects_dir = workdir / "objects"
        objects_dir.mkdir()
        try:
            index = await asyncio.to_thread(s3.download, cfg, index, objects_dir)
        except s3.BucketError as exc:
            self._fetch_failed(req, exc)
        revision = objindex.revision(index, self.storage.digest_algo)
        conditions.delete(req.obj, sc.FETCH_FAILED)
        req.state.objects_dir, req.state.index, req.state.revision = objects_dir, index, revision
        if not artifact or artifact.get("revision") != revision:
            self.outdated(req, f"new upstream revision '{revision}'")
        return None

    async def _s3_config(self, req: Request[Any]) -> s3.S3Config:
        """Validate provider, endpoint and the referenced Secrets into an S3Config."""
        spec = req.spec
        provider = str(spec.get("provider") or "generic")
        if provider not in S3_PROVIDERS:
            verdict = "is not supported yet" if provider in UNSUPPORTED_PROVIDERS else "is unknown"
            self._stall(req, sc.INVALID_PROVIDER_CONFIGURATION, f"provider '{provider}' {verdict}")
        if spec.get("sts"):
            self._stall(req, sc.INVALID_STS_CONFIGURATION, "spec.sts is not supported yet")
        for unsupported in ("proxySecretRef", "serviceAccountName"):
            if spec.get(unsupported):
                self._stall(req, sc.INVALID_PROVIDER_CONFIGURATION, f"spec.{unsupported} is not supported yet")
        endpoint = str(spec.get("endpoint") or "")
        try:
            s3.check_endpoint(endpoint)
        except ValueError as exc:
            self._stall(req, sc.URL_INVALID, str(exc))
        try:
            creds = await optional_secret(req.client, req.namespace, spec.get("secretRef"), "spec.secretRef")
            cert_data = await optional_secret(
                req.client, req.namespace, spec.get("certSecretRef"), "spec.certSecretRef"
            )
            tls = s3.tls_context(cert_data) if cert_data is not None else None
        except (SecretError, ValueError) as exc:
            self._auth_failed(req, str(exc))
        if creds is not None and (ACCESS_KEY not in creds or SECRET_KEY not in creds):
            name = (spec.get("secretRef") or {}).get("name", "")
            self._auth_failed(req, f"invalid '{name}' secret data: required fields '{ACCESS_KEY}' and '{SECRET_KEY}'")
        access = (creds or {}).get(ACCESS_KEY, b"").decode(errors="replace")
        secret = (creds or {}).get(SECRET_KEY, b"").decode(errors="replace")
        if not (access and secret):
            access = secret = ""
        return s3.S3Config(
            endpoint=endpoint,
            bucket=str(spec.get("bucketName") or ""),
            region=spec.get("region") or None,
            secure=not spec.get("insecure"),
            access_key=access,
            secret_key=secret,
            iam=provider == "aws" and creds is None,
            tls=tls,
            timeout=self.timeout(req.obj),
        )

    def _stall(self, req: Request[Any], reason: str, message: str) -> NoReturn:
        conditions.mark_true(req.obj, sc.FETCH_FAILED, reason, message)
        raise StallingError(reason, message)

    def _auth_failed(self, req: Request[Any], message: str) -> NoReturn:
        conditions.mark_true(req.obj, sc.FETCH_FAILED, sc.AUTHENTICATION_FAILED, message)
        raise GenericError(sc.AUTHENTICATION_FAILED, message) from None

    def _fetch_failed(self, req: Request[Any], exc: s3.BucketError) -> NoReturn:
        # as Flux: a rejected credential is a bucket operation failure; AuthenticationFailed is for bad Secrets
        conditions.mark_true(req.obj, sc.FETCH_FAILED, sc.BUCKET_OPERATION_FAILED, str(exc))
        raise GenericError(sc.BUCKET_OPERATION_FAILED, str(exc)) from None

    async def reconcile_artifact(self, req: Request[BucketState]) -> Result | None:
        """Archive the downloaded objects as `<hex>.tar.gz` and record the artifact in the status."""
        if req.state.unchanged:
            artifact = req.status["artifact"]
            conditions.delete(req.obj, sc.ARTIFACT_OUTDATED)
            conditions.mark_true(req.obj, sc.ARTIFACT_IN_STORAGE, meta.SUCCEEDED, stored_message(artifact["revision"]))
            await self.gc(req, artifact["path"])
            return None
        objects_dir = base.required(req.state.objects_dir, "the downloaded objects")
        revision = base.required(req.state.revision, "the revision")
        artifact = await self.store(
            req,
            "archive artifact",
            self.storage.archive_dir,
            objects_dir,
            STORAGE_KIND,
            req.namespace,
            req.name,
            f"{revision.partition(':')[2]}.tar.gz",
            revision=revision,
        )
        previous_digest = (req.status.get("artifact") or {}).get("digest")
        req.status["artifact"] = dict(artifact)
        if req.spec.get("ignore") is None:
            req.status.pop("observedIgnore", None)
        else:
            req.status["observedIgnore"] = req.spec["ignore"]
        conditions.delete(req.obj, sc.STORAGE_OPERATION_FAILED)
        conditions.delete(req.obj, sc.ARTIFACT_OUTDATED)
        conditions.mark_true(req.obj, sc.ARTIFACT_IN_STORAGE, meta.SUCCEEDED, stored_message(revision))
        if previous_digest != artifact["digest"]:
            count, bucket = len(req.state.index), req.spec.get("bucketName", "")
            message = f"stored artifact with {count} fetched files from '{bucket}' bucket"
            await self.announce(req, "NewArtifact", message, artifact)
        await self.gc(req, artifact["path"])
        return None
