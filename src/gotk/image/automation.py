"""The ImageUpdateAutomation reconciler: the selected ImagePolicies' latest images are written into the files
of the GitRepository's checkout with the Setters strategy (`gotk.image.setters`), committed (message from
the Go template, `gotk.runtime.golib`; optionally OpenPGP-signed) and pushed.

Pushes go to `git.push.branch` and then to `git.push.refspec`, and nothing is ever force-pushed. A push branch
other than the checkout branch is created from the checkout; when it exists and is merged into the checkout it
becomes the checkout plus the update (what Flux's default `GitForcePushBranch` makes of it, here as a
fast-forward); when it has commits of its own (or with `GitForcePushBranch=false`) the update goes on top of
them. A push rejected because the branch moved is done again from a fresh clone of the new head, so no commit
of anyone else's is lost. When
neither the policies nor the checkout branch changed since the last run, one ref listing is all it costs.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from gotk.api import defaults, image_v1, meta
from gotk.api import image_conditions as ic
from gotk.gocompat import durations
from gotk.image import setters
from gotk.kube.resources import Resource, flux_resource
from gotk.runtime import conditions, events
from gotk.runtime.conditions import ConditionTable
from gotk.runtime.git import auth as gitauth
from gotk.runtime.git import credentials, refs, writer
from gotk.runtime.git.errors import GitError
from gotk.runtime.git.signatures import SigningFailed
from gotk.runtime.golib import GoLibrary, GoLibraryError
from gotk.runtime.reconciler import NamedStep, Request
from gotk.runtime.results import GenericError, Result, StallingError
from gotk.runtime.secrets import SecretError, secret_data

__all__ = ["CONTROLLER", "ImageUpdateAutomationReconciler", "label_selector_matches", "observed_policies"]

Obj = dict[str, Any]
CONTROLLER: Final = "image-automation-controller"
IMAGE_UPDATE_AUTOMATIONS: Final[Resource] = flux_resource("ImageUpdateAutomation")
READY_MESSAGE: Final = "repository up-to-date"
PUSH_ATTEMPTS: Final = 3


def _ready(obj: Mapping[str, Any]) -> tuple[str, str]:
    return meta.SUCCEEDED, READY_MESSAGE


CONDITIONS: Final = ConditionTable(owned=(meta.READY, meta.RECONCILING, meta.STALLED), success=_ready)


class SelectorError(ValueError):
    """`policySelector` is not a valid label selector."""


def label_selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector (`matchLabels`, `matchExpressions`) against labels; raises SelectorError."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), list(expr.get("values") or [])
        if op in ("In", "NotIn") and not values:
            raise SelectorError("values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty")
        if op in ("Exists", "DoesNotExist") and values:
            raise SelectorError(
                "values: Invalid value: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            )
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise SelectorError(f'"{op}" is not a valid label selector operator')
    return True


def observed_policies(policies: Sequence[Mapping[str, Any]]) -> dict[str, Obj]:
    """`status.observedPolicies`: each selected policy's latest image by name."""
    observed: dict[str, Obj] = {}
    for policy in policies:
        ref = (policy.get("status") or {}).get("latestRef") or {}
        entry = {"name": ref.get("name", ""), "tag": ref.get("tag", "")}
        if ref.get("digest"):
            entry["digest"] = ref["digest"]
        observed[policy["metadata"]["name"]] = entry
    return observed


def message_data(obj: Mapping[str, Any], result: setters.Result) -> Obj:
    """What a commit message template sees, for tools/helmlib/message.go."""
    meta_ = obj.get("metadata") or {}
    commit = ((obj.get("spec") or {}).get("git") or {}).get("commit") or {}
    files = []
    for file, objects in sorted(result.file_changes.items()):
        files.append(
            {
                "file": file,
                "objects": [
                    {
                        "apiVersion": oid.api_version,
                        "kind": oid.kind,
                        "name": oid.name,
                        "namespace": oid.namespace,
                        "changes": [{"OldValue": c.old_value, "NewValue": c.new_value, "Setter": c.setter} for c in cs],
                    }
                    for oid, cs in objects.items()
                ],
            }
        )
    return {
        "automation": {"name": meta_.get("name", ""), "namespace": meta_.get("namespace", "")},
        "files": files,
        "values": commit.get("messageTemplateValues") or {},
    }


@dataclass
class GitTarget:
    """Where the automation reads and writes: the GitRepository's URL and credentials, the checkout ref,
    the push branch and whether it differs from the checkout branch."""

    url: str
    auth: gitauth.GitAuth
    checkout: refs.RefSpec
    push_branch: str
    switch_branch: bool
    timeout: float


@dataclass
class AutomationState:
    """What the automation steps hand on."""

    policies: list[Obj] = field(default_factory=list)
    observed: dict[str, Obj] = field(default_factory=dict)
    target: GitTarget | None = None
    signing_key: writer.SigningKey | None = None


class ImageUpdateAutomationReconciler:
    """Writes the latest images back to Git."""

    controller_name = CONTROLLER
    resource = IMAGE_UPDATE_AUTOMATIONS
    condition_table = CONDITIONS

    def __init__(
        self,
        policies: Callable[[str], list[Obj]],
        sources: Callable[[str, str], Obj | None],
        *,
        no_cross_namespace_refs: bool = False,
        force_push_branch: bool = True,
        golib: Callable[[], GoLibrary] = GoLibrary,
    ) -> None:
        self.policies = policies
        self.sources = sources
        self.no_cross_namespace_refs = no_cross_namespace_refs
        self.force_push_branch = force_push_branch
        self._golib_factory = golib
        self._golib: GoLibrary | None = None

    def new_state(self) -> AutomationState:
        """A fresh step state for one reconcile."""
        return AutomationState()

    def steps(self) -> Sequence[NamedStep[AutomationState]]:
        return (
            NamedStep("policies", self.reconcile_policies),
            NamedStep("source", self.reconcile_source),
            NamedStep("update", self.reconcile_update),
        )

    def interval(self, obj: Obj) -> float:
        return defaults.duration(obj, image_v1.ImageUpdateAutomationSpec, "interval")

    def retry_interval(self, obj: Obj) -> float | None:
        return None

    async def finalize(self, req: Request[AutomationState]) -> Result | None:
        return None

    def golib(self) -> GoLibrary:
        if self._golib is None:
            self._golib = self._golib_factory()
        return self._golib

    async def reconcile_policies(self, req: Request[AutomationState]) -> Result | None:
        """The ImagePolicies of the namespace that `policySelector` selects and that have a latest image."""
        req.status["lastAutomationRunTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if req.generation != (req.status.get("observedGeneration") or -1):
            old = req.status.get("observedGeneration") or -1
            conditions.mark_reconciling(
                req.obj, meta.PROGRESSING, f"processing object: new generation {old} -> {req.generation}"
            )
        selector = req.spec.get("policySelector")
        try:
            chosen = [
                p
                for p in self.policies(req.namespace)
                if label_selector_matches(selector, (p.get("metadata") or {}).get("labels") or {})
                and (p.get("status") or {}).get("latestRef")
            ]
        except SelectorError as exc:
            raise StallingError(ic.INVALID_POLICY_SELECTOR, f"failed to parse policy selector: {exc}") from None
        req.state.policies = sorted(chosen, key=lambda p: str(p["metadata"]["name"]))
        req.state.observed = observed_policies(req.state.policies)
        return None

    async def reconcile_source(self, req: Request[AutomationState]) -> Result | None:
        """The GitRepository: its URL and credentials, the checkout ref and the push branch."""
        ref = req.spec.get("sourceRef") or {}
        kind = ref.get("kind") or "GitRepository"
        if kind != "GitRepository":
            message = f"source kind '{kind}' not supported: invalid source configuration"
            raise StallingError(ic.INVALID_SOURCE_CONFIGURATION, message)
        git = req.spec.get("git")
        if not git:
            message = "source kind 'GitRepository' necessitates field .spec.git: invalid source configuration"
            raise StallingError(ic.INVALID_SOURCE_CONFIGURATION, message)
        namespace, name = str(ref.get("namespace") or req.namespace), str(ref.get("name") or "")
        if self.no_cross_namespace_refs and namespace != req.namespace:
            message = f"can't access 'GitRepository/{namespace}/{name}', cross-namespace references have been blocked"
            raise StallingError(meta.ACCESS_DENIED, message)
        source = self.sources(namespace, name)
        if source is None:
            message = (
                f"failed configuring source manager: unable to get source '{namespace}/{name}': "
                f'gitrepositories.source.toolkit.fluxcd.io "{name}" not found'
            )
            raise GenericError(ic.SOURCE_MANAGER_FAILED, message)
        spec = source.get("spec") or {}
        if (spec.get("provider") or "generic") != "generic":
            provider = spec["provider"]
            message = (
                f"failed configuring source manager: provider '{provider}' authentication is not supported by gotk"
            )
            raise StallingError(ic.SOURCE_MANAGER_FAILED, message)
        url = str(spec.get("url") or "")
        try:
            auth = await credentials.from_spec(req.client, namespace, spec, url)
        except (credentials.ProxySecretError, gitauth.InvalidURLError, SecretError, GitError) as exc:
            raise GenericError(ic.SOURCE_MANAGER_FAILED, f"failed configuring source manager: {exc}") from None
        checkout_spec = (git.get("checkout") or {}).get("ref")
        checkout = refs.RefSpec.from_spec(checkout_spec if checkout_spec else spec.get("ref"))
        push_branch = str((git.get("push") or {}).get("branch") or "") or checkout.branch
        if not checkout_spec and not checkout.branch and not (spec.get("ref") or {}):
            checkout = refs.RefSpec(branch=refs.DEFAULT_BRANCH)
            push_branch = push_branch or refs.DEFAULT_BRANCH
        if not push_branch:
            message = (
                "push branch not provided explicitly and cannot be inferred from .spec.git.checkout.ref or "
                "GitRepository .spec.ref: invalid source configuration"
            )
            raise StallingError(ic.INVALID_SOURCE_CONFIGURATION, message)
        timeout = durations.parse(str(spec.get("timeout") or "60s"))
        switch = push_branch != checkout.branch
        req.state.target = GitTarget(url, auth, checkout, push_branch, switch, timeout)
        signing = (git.get("commit") or {}).get("signingKey") or {}
        key_name = str((signing.get("secretRef") or {}).get("name") or "")
        if key_name:
            req.state.signing_key = await self._signing_key(req, key_name, str(signing.get("type") or "gpg"))
        return None

    async def _signing_key(self, req: Request[AutomationState], name: str, kind: str) -> writer.SigningKey:
        """The signing key Secret: `git.asc` (and `passphrase`) for gpg, `identity` (and `password`) for ssh."""
        prefix = "failed configuring source manager"
        try:
            data = await secret_data(req.client, req.namespace, name, field="spec.git.commit.signingKey.secretRef")
        except SecretError as exc:
            raise GenericError(
                ic.SOURCE_MANAGER_FAILED, f"{prefix}: could not find signing key secret '{name}': {exc}"
            ) from None
        key, secret = ("identity", "password") if kind == "ssh" else ("git.asc", "passphrase")
        if key not in data:
            article = "an" if kind == "ssh" else "a"
            message = f"{prefix}: signing key secret '{name}' does not contain {article} '{key}' key"
            raise GenericError(ic.SOURCE_MANAGER_FAILED, message)
        return writer.SigningKey(kind, data[key], data.get(secret, b"").decode(errors="replace"))

    async def reconcile_update(self, req: Request[AutomationState]) -> Result | None:
        """Check out, set the images, commit and push; a push the moved branch rejects is redone on its new head."""
        target = req.state.target
        assert target is not None
        update = req.spec.get("update") or {"strategy": "Setters"}
        if (update.get("strategy") or "Setters") != "Setters":
            message = f"unsupported update strategy '{update.get('strategy')}'"
            raise StallingError(ic.INVALID_UPDATE_STRATEGY, message)
        refspec = str(((req.spec.get("git") or {}).get("push") or {}).get("refspec") or "")
        policies_changed = req.state.observed != (req.status.get("observedPolicies") or {})
        if not (policies_changed or target.switch_branch or refspec) and req.status.get("observedSourceRevision"):
            if await self._unchanged(req, target):
                return None
        for attempt in range(1, PUSH_ATTEMPTS + 1):
            try:
                return await self._run_once(req, target, update, refspec)
            except writer.PushFailedError as exc:
                if attempt == PUSH_ATTEMPTS or not exc.moved or exc.auth_failed:
                    raise GenericError(ic.GIT_OPERATION_FAILED, f"failed to update source: {exc}") from None
                req.log.info("push rejected, the branch moved: trying again on its new head (%s)", exc.remote_head)
        return None

    async def _unchanged(self, req: Request[AutomationState], target: GitTarget) -> bool:
        """Whether the checkout branch is still at the last observed revision (one ref listing)."""
        if not target.checkout.branch:
            return False
        try:
            head = await asyncio.to_thread(
                writer.remote_head, target.url, target.auth, target.checkout.branch, timeout=target.timeout
            )
        except GitError as exc:
            raise GenericError(ic.GIT_OPERATION_FAILED, f"failed to checkout source: {exc}") from None
        return bool(head) and req.status.get("observedSourceRevision") == f"{target.checkout.branch}@sha1:{head}"

    async def _run_once(
        self, req: Request[AutomationState], target: GitTarget, update: Mapping[str, Any], refspec: str
    ) -> Result | None:
        workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="imageupdateautomation-"))
        try:
            return await self._update_in(req, target, update, refspec, workdir / "repo")
        finally:
            await asyncio.to_thread(shutil.rmtree, workdir, True)

    async def _update_in(
        self, req: Request[AutomationState], target: GitTarget, update: Mapping[str, Any], refspec: str, dest: Path
    ) -> Result | None:
        req.progress("cloning the source")
        try:
            ws = await asyncio.to_thread(
                writer.open_workspace,
                target.url,
                target.auth,
                target.checkout,
                dest,
                push_branch=target.push_branch,
                keep_push_branch=not self.force_push_branch,
                timeout=target.timeout,
            )
        except GitError as exc:
            raise GenericError(ic.GIT_OPERATION_FAILED, f"failed to checkout source: {exc}") from None
        assert ws.checkout is not None  # open_workspace always checks out a commit
        values = setters.setter_values(req.state.policies)
        try:
            result = await asyncio.to_thread(setters.update_tree, ws.path, str(update.get("path") or ""), values)
        except (ValueError, OSError) as exc:
            raise GenericError(ic.UPDATE_FAILED, f"failed to apply policies: {exc}") from None
        for missing in result.missing:
            req.log.warning("marker names no selected ImagePolicy with a latest image, left as it is: %s", missing)
        for problem in result.problem_files:
            req.log.info("file skipped, not YAML: %s", problem)
        await self._note_missing(req, result, ws.checkout.revision)
        if not result.file_changes:
            self._observe(req, ws.checkout.revision)
            return None
        commit = (req.spec.get("git") or {}).get("commit") or {}
        template = str(commit.get("messageTemplate") or "")
        try:
            message = await asyncio.to_thread(self.golib().commit_message, template, message_data(req.obj, result))
        except GoLibraryError as exc:
            if exc.code == "removedTemplateField":
                raise StallingError(ic.REMOVED_TEMPLATE_FIELD, exc.message) from None
            raise GenericError(ic.GIT_OPERATION_FAILED, f"failed to update source: {exc.message}") from None
        author = commit.get("author") or {}
        try:
            sha = await asyncio.to_thread(
                writer.commit_all,
                ws,
                writer.Author(str(author.get("name") or ""), str(author.get("email") or "")),
                message,
                signing_key=req.state.signing_key,
            )
        except SigningFailed as exc:
            raise GenericError(ic.GIT_OPERATION_FAILED, f"failed to update source: {exc}") from None
        if not sha:
            self._observe(req, ws.checkout.revision)
            return None
        push = (req.spec.get("git") or {}).get("push") or {}
        spec = f"refs/heads/{ws.branch}:refs/heads/{ws.branch}"  # never forced: open_workspace makes it a fast-forward
        req.progress(f"pushing commit {sha[:7]} to branch '{ws.branch}'")
        await asyncio.to_thread(writer.push, ws, [spec], options=push.get("options"))
        if refspec:
            await asyncio.to_thread(writer.push, ws, [refspec], options=push.get("options"))
        summary = f"pushed commit '{sha[:7]}' to branch '{ws.branch}'"
        if refspec:
            summary += f" and refspecs '{refspec}'"
        summary += f"\n{message}"
        revision = ws.checkout.revision if target.switch_branch else f"{ws.branch}@sha1:{sha}"
        self._observe(req, revision)
        req.status["lastPushCommit"] = sha
        req.status["lastPushTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await req.recorder.emit(req.obj, events.NORMAL, meta.SUCCEEDED, summary)
        return None

    def _observe(self, req: Request[AutomationState], revision: str) -> None:
        req.status["observedSourceRevision"] = revision
        req.status["observedPolicies"] = req.state.observed

    async def _note_missing(self, req: Request[AutomationState], result: setters.Result, revision: str) -> None:
        """Say which markers name no selected policy: once per new revision or policy set, as an event."""
        fresh = revision != req.status.get("observedSourceRevision") or req.state.observed != (
            req.status.get("observedPolicies") or {}
        )
        if result.missing and fresh:
            listed = ", ".join(result.missing)
            message = f"left as they are: markers name no selected ImagePolicy with a latest image ({listed})"
            await req.recorder.emit(req.obj, events.NORMAL, meta.SUCCEEDED, message)
