"""The HelmRepository reconciler: storage, source, artifact — Flux's steps, in that order.

A `default` (HTTP/S) repository's `index.yaml` is fetched (basic auth, TLS), checked, and stored as it was
fetched as `index-<hex>.yaml`; its digest is the revision, and `status.url` is the stable `index.yaml` link
beside it. An unchanged index writes nothing. An `oci` repository is a static data container for HelmCharts:
the controller leaves it alone (no finalizer, no status), as Flux does. The steps hand on a
`HelmRepositoryState`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from typing import Any, NoReturn
from urllib.parse import urlsplit

from gotk.api import meta, source_v1_helm
from gotk.api import source_conditions as sc
from gotk.kube.resources import HELMREPOSITORIES
from gotk.runtime import conditions
from gotk.runtime.reconciler import Request
from gotk.runtime.results import GenericError, Result, StallingError
from gotk.runtime.secrets import SecretError, optional_secret
from gotk.source import base
from gotk.source.helm import http as helmhttp
from gotk.source.helm import index as helmindex

Obj = dict[str, Any]
KIND = "HelmRepository"
STORAGE_KIND = "helmrepository"
INDEX_LINK = "index.yaml"

CONDITIONS = base.condition_table()


def is_oci(obj: Obj) -> bool:
    return (obj.get("spec") or {}).get("type") == "oci"


def human_size(size: int) -> str:
    """Go's `units.HumanSize` as Flux prints index sizes: `30.88kB`."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.4g}{unit}"
        value /= 1000
    return f"{value:.4g}GB"


@dataclasses.dataclass
class HelmRepositoryState:
    """What the HelmRepository steps hand on: the fetched index as fetched, its revision and chart count, and
    whether the revision is unchanged."""

    data: bytes | None = None
    revision: str | None = None
    unchanged: bool = False
    charts: int = 0


class HelmRepositoryReconciler(base.ArtifactSource[HelmRepositoryState]):
    """Turns a Helm HTTP/S repository's index into an artifact served by the storage server."""

    storage_kind = STORAGE_KIND
    spec_model = source_v1_helm.HelmRepositorySpec
    resource = HELMREPOSITORIES
    condition_table = CONDITIONS

    def new_state(self) -> HelmRepositoryState:
        """A fresh step state for one reconcile."""
        return HelmRepositoryState()

    def static(self, obj: Obj) -> bool:
        """OCI repositories are data containers: no finalizer, no status, nothing to reconcile."""
        return is_oci(obj)

    async def reconcile_source(self, req: Request[HelmRepositoryState]) -> Result | None:
        """Fetch and check the index; note when its revision differs from the stored artifact's."""
        opts = await self._options(req)
        try:
            data = await helmhttp.download(opts, helmhttp.index_url(opts.url), max_size=helmindex.MAX_INDEX_SIZE)
            index = await asyncio.to_thread(helmindex.load, data)
        except helmhttp.HelmFetchError as exc:
            self._failed(req, f"failed to fetch Helm repository index: {exc}")
        except helmindex.IndexFormatError as exc:
            self._failed(req, f"failed to load Helm repository from index YAML: {exc}")
        revision = f"sha256:{hashlib.sha256(data).hexdigest()}"
        conditions.delete(req.obj, sc.FETCH_FAILED)
        req.state.data, req.state.revision, req.state.charts = data, revision, len(index["entries"])
        artifact = req.status.get("artifact")
        if artifact and artifact.get("revision") == revision:
            req.state.unchanged = True
            return None
        self.outdated(req, f"new index revision '{revision}'")
        return None

    async def _options(self, req: Request[Any]) -> helmhttp.HelmHTTPOptions:
        """The HTTP options of the repository: its URL (http or https only), credentials and TLS from Secrets."""
        spec = req.spec
        url = str(spec.get("url") or "")
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https"):
            message = f'failed to construct Helm client: scheme "{scheme}" not supported'
            conditions.mark_true(req.obj, sc.FETCH_FAILED, sc.URL_INVALID, message)
            raise StallingError(sc.URL_INVALID, message)
        secret_ref = spec.get("secretRef")
        try:
            auth = await optional_secret(req.client, req.namespace, secret_ref, "spec.secretRef")
            certs = await optional_secret(req.client, req.namespace, spec.get("certSecretRef"), "spec.certSecretRef")
            return helmhttp.options_from_secrets(
                url,
                auth,
                certs,
                secret_name=(secret_ref or {}).get("name", ""),
                pass_credentials=bool(spec.get("passCredentials")),
                timeout=self.timeout(req.obj),
            )
        except (SecretError, helmhttp.HelmAuthError) as exc:
            message = f"failed to construct Helm client's TLS config or credentials: {exc}"
            conditions.mark_true(req.obj, sc.FETCH_FAILED, sc.AUTHENTICATION_FAILED, message)
            raise GenericError(sc.AUTHENTICATION_FAILED, message) from None

    def _failed(self, req: Request[Any], message: str) -> NoReturn:
        conditions.mark_true(req.obj, sc.FETCH_FAILED, sc.INDEXATION_FAILED, message)
        raise GenericError(sc.INDEXATION_FAILED, message) from None

    async def reconcile_artifact(self, req: Request[HelmRepositoryState]) -> Result | None:
        """Store the index as fetched as `index-<hex>.yaml` and point `index.yaml` at it."""
        revision = base.required(req.state.revision, "the index revision")
        if req.state.unchanged:
            artifact = req.status["artifact"]
        else:
            data = base.required(req.state.data, "the fetched index")
            filename = f"index-{revision.partition(':')[2]}.yaml"
            artifact = await self.store(
                req,
                "save artifact",
                self.storage.store_bytes,
                data,
                STORAGE_KIND,
                req.namespace,
                req.name,
                filename,
                revision=revision,
            )
            req.status["artifact"] = artifact
            url = helmhttp.redact(req.spec.get("url", ""))
            message = f"fetched index of size {human_size(len(data))} from '{url}'"
            await self.announce(req, "NewArtifact", message, artifact)
        await self.link(req, artifact, INDEX_LINK)
        conditions.delete(req.obj, sc.STORAGE_OPERATION_FAILED)
        conditions.delete(req.obj, sc.ARTIFACT_OUTDATED)
        conditions.mark_true(req.obj, sc.ARTIFACT_IN_STORAGE, meta.SUCCEEDED, self.stored_message(revision))
        await self.gc(req, artifact["path"])
        return None
