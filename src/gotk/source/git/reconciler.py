"""The GitRepository reconciler: storage, source, include, artifact — Flux's steps, in that order.

A no-change reconcile is one ref listing: when the remote revision equals the stored artifact's, the
observed settings and included artifacts are unchanged and no (re)verification is due, nothing is
cloned. The steps hand on a `GitState`. Includes live in `gotk.source.git.include`, signature checks in
`gotk.source.git.verify`. Git work runs in threads (libgit2 releases the GIL).
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from gotk.api import meta, source_v1
from gotk.api import source_conditions as sc
from gotk.kube.resources import GITREPOSITORIES
from gotk.runtime import conditions
from gotk.runtime.events import NORMAL
from gotk.runtime.git import auth as gitauth
from gotk.runtime.git import credentials, fetcher, refs
from gotk.runtime.git.errors import GitError
from gotk.runtime.reconciler import NamedStep, Request
from gotk.runtime.results import GenericError, Result, StallingError
from gotk.runtime.secrets import SecretError
from gotk.source import base, ignore
from gotk.source.git import include as gitinclude
from gotk.source.git import verify as gitverify
from gotk.source.storage import Storage

Obj = dict[str, Any]
KIND = "GitRepository"
STORAGE_KIND = "gitrepository"

CONDITIONS = base.condition_table(sc.INCLUDE_UNAVAILABLE, sc.SOURCE_VERIFIED)


def stored_message(revision: str) -> str:
    return f"stored artifact for revision '{revision}'"


def observed_settings(spec: Obj) -> Obj:
    """The status fields that record which settings produced the current artifact."""
    return {
        "observedIgnore": spec.get("ignore"),
        "observedRecurseSubmodules": spec.get("recurseSubmodules") or None,
        "observedInclude": spec.get("include") or None,
        "observedSparseCheckout": spec.get("sparseCheckout") or None,
    }


def content_config_changed(obj: Obj, includes: Sequence[Obj]) -> bool:
    """Flux's gitContentConfigChanged: must the artifact be rebuilt even for the same commit?"""
    status = obj.get("status") or {}
    if any(status.get(k) != v for k, v in observed_settings(obj.get("spec") or {}).items()):
        return True
    return gitverify.requires_verification(obj) or gitinclude.changed(includes, status.get("includedArtifacts"))


@dataclasses.dataclass
class GitState:
    """What the GitRepository steps hand on: the included artifacts and, unless the revision is unchanged,
    the checkout."""

    includes: list[Obj] = dataclasses.field(default_factory=list)
    unchanged: bool = False
    checkout_dir: Path | None = None
    commit: fetcher.CommitInfo | None = None


class GitRepositoryReconciler(base.ArtifactSource[GitState]):
    """Turns a GitRepository into a tar.gz artifact of one commit, served by the storage server."""

    storage_kind = STORAGE_KIND
    spec_model = source_v1.GitRepositorySpec
    resource = GITREPOSITORIES
    condition_table = CONDITIONS

    def __init__(self, storage: Storage, *, requeue_dependency: float = gitinclude.REQUEUE) -> None:
        super().__init__(storage)
        self.requeue_dependency = requeue_dependency

    def new_state(self) -> GitState:
        """A fresh step state for one reconcile."""
        return GitState()

    def steps(self) -> Sequence[NamedStep[GitState]]:
        """Flux's GitRepository steps: storage, source, include, artifact."""
        return (
            NamedStep("storage", self.reconcile_storage),
            NamedStep("source", self.reconcile_source),
            NamedStep("include", self.reconcile_include),
            NamedStep("artifact", self.reconcile_artifact),
        )

    # -- steps -----------------------------------------------------------------------------------

    async def reconcile_source(self, req: Request[GitState]) -> Result | None:
        """Resolve the ref with one listing; clone and verify signatures only if revision or content config changed."""
        spec = req.spec
        if conditions.is_false(req.obj, sc.SOURCE_VERIFIED):
            conditions.delete(req.obj, sc.SOURCE_VERIFIED)  # a failed verification is re-evaluated
        url = str(spec.get("url") or "")
        auth = await self._auth(req, url)
        includes = await gitinclude.fetch(req, GITREPOSITORIES, requeue=self.requeue_dependency)
        req.state.includes = includes
        if gitinclude.changed(includes, req.status.get("includedArtifacts")):
            message = "building artifact: included artifacts differ from last observed includes"
            conditions.mark_reconciling(req.obj, meta.PROGRESSING, message)
        ref = refs.RefSpec.from_spec(spec.get("ref"))
        timeout = self.timeout(req.obj)
        artifact = req.status.get("artifact")
        if artifact and not content_config_changed(req.obj, includes):
            # with an artifact in storage, one ref listing decides whether anything changed
            try:
                resolution = await asyncio.to_thread(fetcher.resolve_remote, url, auth, ref, timeout=timeout)
            except GitError as exc:
                self._fetch_failed(req, exc)
            if artifact.get("revision") == resolution.revision:
                conditions.delete(req.obj, sc.FETCH_FAILED)
                if gitverify.mode_of(spec) is None:
                    gitverify.clear(req)
                req.state.unchanged = True
                return None
        workdir = Path(tempfile.mkdtemp(prefix="gitrepository-"))
        req.defer(lambda: shutil.rmtree(workdir, ignore_errors=True))
        checkout_dir = workdir / "repo"
        sparse = spec.get("sparseCheckout") or None
        try:
            commit = await asyncio.to_thread(
                fetcher.checkout,
                url,
                auth,
                ref,
                checkout_dir,
                depth=1,
                recurse_submodules=bool(spec.get("recurseSubmodules")),
                sparse_checkout=sparse,
                timeout=timeout,
            )
        except GitError as exc:
            self._fetch_failed(req, exc)
        conditions.delete(req.obj, sc.FETCH_FAILED)
        if sparse:
            self._check_sparse_paths(req, checkout_dir, sparse)
        await gitverify.verify_commit(req, commit)
        req.state.checkout_dir = checkout_dir
        req.state.commit = commit
        if not artifact or artifact.get("revision") != commit.revision:
            message = f"new upstream revision '{commit.revision}'"
            if artifact:
                conditions.mark_true(req.obj, sc.ARTIFACT_OUTDATED, sc.NEW_REVISION, message)
            conditions.mark_reconciling(req.obj, meta.PROGRESSING, f"building artifact: {message}")
        return None

    async def _auth(self, req: Request[Any], url: str) -> gitauth.GitAuth:
        """Credentials from spec.secretRef and the proxy from spec.proxySecretRef, with Flux's failure reasons."""
        try:
            return await credentials.from_spec(req.client, req.namespace, req.spec, url)
        except credentials.ProxySecretError as exc:
            message = f"failed to configure proxy options: {exc}"
            conditions.mark_true(req.obj, sc.FETCH_FAILED, sc.AUTHENTICATION_FAILED, message)
            raise GenericError(sc.AUTHENTICATION_FAILED, message) from None
        except gitauth.InvalidURLError as exc:
            conditions.mark_true(req.obj, sc.FETCH_FAILED, sc.URL_INVALID, str(exc))
            raise StallingError(sc.URL_INVALID, str(exc)) from None
        except (SecretError, GitError) as exc:
            message = f"failed to configure authentication options: {exc}"
            conditions.mark_true(req.obj, sc.FETCH_FAILED, sc.AUTHENTICATION_FAILED, message)
            raise GenericError(sc.AUTHENTICATION_FAILED, message) from None

    def _fetch_failed(self, req: Request[Any], exc: GitError) -> NoReturn:
        # as Flux: every clone or listing failure, a rejected credential included, is GitOperationFailed
        conditions.mark_true(req.obj, sc.FETCH_FAILED, sc.GIT_OPERATION_FAILED, str(exc))
        raise GenericError(sc.GIT_OPERATION_FAILED, str(exc)) from None

    def _check_sparse_paths(self, req: Request[Any], root: Path, sparse: Sequence[str]) -> None:
        """Every sparseCheckout directory must exist in the checkout (Flux's validateSparseCheckoutPaths)."""
        for path in sparse:
            target = (root / str(path)).resolve()
            problem = ""
            if not target.is_relative_to(root.resolve()):
                problem = f"sparse checkout dir '{path}' cannot be resolved: it leaves the repository"
            elif not target.exists():
                problem = f"sparse checkout dir '{path}' does not exist in repository"
            if problem:
                self._fetch_failed(req, GitError(f"failed to sparse checkout directories : {problem}"))

    async def reconcile_include(self, req: Request[GitState]) -> Result | None:
        """Copy each included artifact (`fromPath` of it) into `toPath` of the checkout."""
        if req.spec.get("include") and not req.state.unchanged:
            checkout_dir = base.required(req.state.checkout_dir, "the checkout")
            await gitinclude.copy(req, self.storage, checkout_dir, req.state.includes)
        return None

    async def reconcile_artifact(self, req: Request[GitState]) -> Result | None:
        """Archive the checkout (minus ignored files) as `<sha>.tar.gz` and record it in the status."""
        if req.state.unchanged:
            artifact = req.status["artifact"]
            conditions.mark_true(req.obj, sc.ARTIFACT_IN_STORAGE, meta.SUCCEEDED, stored_message(artifact["revision"]))
            await self.gc(req, artifact["path"])
            return None
        root = base.required(req.state.checkout_dir, "the checkout")
        commit = base.required(req.state.commit, "the checked-out commit")
        spec = req.spec
        try:
            matcher = await asyncio.to_thread(ignore.build_matcher, root, spec.get("ignore"))
            artifact = await asyncio.to_thread(
                self.storage.archive_dir,
                root,
                STORAGE_KIND,
                req.namespace,
                req.name,
                f"{commit.sha}.tar.gz",
                exclude=matcher,
                revision=commit.revision,
            )
        except OSError as exc:
            message = f"failed to archive artifact: {exc}"
            conditions.mark_true(req.obj, sc.STORAGE_OPERATION_FAILED, sc.ARCHIVE_OPERATION_FAILED, message)
            raise GenericError(sc.ARCHIVE_OPERATION_FAILED, message) from None
        previous = (req.status.get("artifact") or {}).get("revision")
        req.status["artifact"] = dict(artifact)
        settings = observed_settings(spec) | {"includedArtifacts": req.state.includes or None}
        for key, value in settings.items():
            if value is None:
                req.status.pop(key, None)
            else:
                req.status[key] = value
        conditions.delete(req.obj, sc.STORAGE_OPERATION_FAILED)
        conditions.delete(req.obj, sc.ARTIFACT_OUTDATED)
        conditions.mark_true(req.obj, sc.ARTIFACT_IN_STORAGE, meta.SUCCEEDED, stored_message(commit.revision))
        if previous != commit.revision:
            await req.recorder.emit(
                req.obj,
                NORMAL,
                "NewArtifact",
                f"stored artifact for commit '{commit.short_message}'",
                metadata={"source.toolkit.fluxcd.io/revision": commit.revision},
            )
        await self.gc(req, artifact["path"])
        return None
