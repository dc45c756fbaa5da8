"""The ImagePolicy reconciler: find the ImageRepository (same namespace, or another whose `accessFrom` admits
this one), choose the latest tag from its stored tags with the policy (`gotk.image.selection`), look up the
digest when `digestReflectionPolicy` asks for it, and record `latestRef` (the previous one in
`observedPreviousRef`). Ready's message names the image, so a new choice is announced by an event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gotk.api import defaults, image_v1, meta
from gotk.api import image_conditions as ic
from gotk.gocompat import durations
from gotk.image import selection
from gotk.image.repository import CONTROLLER, parse_image
from gotk.image.store import TagStore
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import NAMESPACES, Resource, flux_resource
from gotk.runtime import conditions
from gotk.runtime.conditions import ConditionTable
from gotk.runtime.oci import remote as ociremote
from gotk.runtime.oci.model import RegistryError
from gotk.runtime.reconciler import NamedStep, Request
from gotk.runtime.results import GenericError, Result, StallingError, WaitingError

__all__ = ["ImagePolicyReconciler", "ready_message", "repository_key"]

Obj = dict[str, Any]
IMAGE_POLICIES: Final[Resource] = flux_resource("ImagePolicy")


def image_ref_string(ref: Mapping[str, Any]) -> str:
    """`name:tag[@digest]`, as Flux's ImageRef.String()."""
    text = f"{ref.get('name', '')}:{ref.get('tag', '')}"
    return text + (f"@{ref['digest']}" if ref.get("digest") else "")


def ready_message(obj: Mapping[str, Any]) -> tuple[str, str]:
    """Flux's Ready message of a policy: the latest image, its digest, and the previous one when it changed."""
    status = obj.get("status") or {}
    latest = status.get("latestRef") or {}
    message = f"Latest image tag for {latest.get('name', '')} resolved to {latest.get('tag', '')}"
    if latest.get("digest"):
        message += f" with digest {latest['digest']}"
    previous = status.get("observedPreviousRef")
    if previous and previous != latest:
        message += f" (previously {previous.get('name', '')}:{previous.get('tag', '')}"
        message += f"@{previous['digest']})" if previous.get("digest") else ")"
    return meta.SUCCEEDED, message


CONDITIONS: Final = ConditionTable(owned=(meta.READY, meta.RECONCILING, meta.STALLED), success=ready_message)


def repository_key(policy: Mapping[str, Any]) -> tuple[str, str]:
    """The (namespace, name) of the ImageRepository a policy refers to."""
    ref = (policy.get("spec") or {}).get("imageRepositoryRef") or {}
    namespace = ref.get("namespace") or (policy.get("metadata") or {}).get("namespace") or ""
    return str(namespace), str(ref.get("name") or "")


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


async def check_access(client: Client, policy_namespace: str, repo: Mapping[str, Any]) -> None:
    """Flux's ACL: another namespace's repository admits the policy only through `accessFrom` selectors that
    match the policy namespace's labels; raises PermissionError with Flux's message otherwise."""
    rmeta = repo.get("metadata") or {}
    ns, name = rmeta.get("namespace") or "", rmeta.get("name") or ""
    if ns == policy_namespace:
        return
    acl = (repo.get("spec") or {}).get("accessFrom")
    if acl is None:
        raise PermissionError(f"'{ns}/{name}' can't be accessed due to missing ACL labels on 'accessFrom'")
    try:
        namespace = await client.get(NAMESPACES, policy_namespace)
    except ApiError as exc:
        raise PermissionError(f"unable to read namespace '{policy_namespace}': {exc}") from None
    labels = (namespace.get("metadata") or {}).get("labels") or {}
    if any(selector_matches(s, labels) for s in acl.get("namespaceSelectors") or []):
        return
    raise PermissionError(
        f"'{ns}/{name}' can't be accessed due to ACL labels mismatch on namespace '{policy_namespace}'"
    )


@dataclass
class PolicyState:
    """What the ImagePolicy steps hand on: the repository and the chosen tag."""

    repository: Obj | None = None
    tag: str = ""


class ImagePolicyReconciler:
    """Chooses an ImageRepository's latest image by policy."""

    controller_name = CONTROLLER
    resource = IMAGE_POLICIES
    condition_table = CONDITIONS

    def __init__(
        self,
        store: TagStore,
        repositories: Callable[[str, str], Obj | None],
        *,
        no_cross_namespace_refs: bool = False,
        requeue_dependency: float = 30.0,
    ) -> None:
        self.store = store
        self.repositories = repositories
        self.no_cross_namespace_refs = no_cross_namespace_refs
        self.requeue_dependency = requeue_dependency

    def new_state(self) -> PolicyState:
        """A fresh step state for one reconcile."""
        return PolicyState()

    def steps(self) -> Sequence[NamedStep[PolicyState]]:
        return (
            NamedStep("repository", self.reconcile_repository),
            NamedStep("select", self.reconcile_select),
            NamedStep("digest", self.reconcile_digest),
        )

    def interval(self, obj: Obj) -> float | None:
        return defaults.optional_duration(obj, image_v1.ImagePolicySpec, "interval")

    def retry_interval(self, obj: Obj) -> float | None:
        return None

    async def finalize(self, req: Request[PolicyState]) -> Result | None:
        return None

    async def reconcile_repository(self, req: Request[PolicyState]) -> Result | None:
        """Find the referenced ImageRepository and check that this policy may use it."""
        policy = defaults.value(req.obj, image_v1.ImagePolicySpec, "digest_reflection_policy")
        if policy == "Always" and not req.spec.get("interval"):
            message = "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'"
            raise StallingError(ic.INTERVAL_NOT_CONFIGURED, message)
        if req.generation != (req.status.get("observedGeneration") or -1):
            old = req.status.get("observedGeneration") or -1
            conditions.mark_reconciling(
                req.obj, meta.PROGRESSING, f"processing object: new generation {old} -> {req.generation}"
            )
        ns, name = repository_key(req.obj)
        prefix = "failed to get the referred ImageRepository"
        if self.no_cross_namespace_refs and ns != req.namespace:
            message = (
                f"{prefix}: cannot access 'ImageRepository/{ns}/{name}', cross-namespace references have been blocked"
            )
            raise GenericError(meta.ACCESS_DENIED, message)
        repo = self.repositories(ns, name)
        if repo is None:
            message = (
                f"{prefix}: referenced ImageRepository does not exist: "
                f'imagerepositories.image.toolkit.fluxcd.io "{name}" not found'
            )
            raise WaitingError(ic.DEPENDENCY_NOT_READY, message, self.requeue_dependency)
        try:
            await check_access(req.client, req.namespace, repo)
        except PermissionError as exc:
            raise GenericError(meta.ACCESS_DENIED, f"{prefix}: access denied: {exc}") from None
        spec = repo.get("spec") or {}
        try:
            parse_image(str(spec.get("image") or ""), insecure=bool(spec.get("insecure")))
        except ValueError as exc:
            raise StallingError(ic.IMAGE_URL_INVALID, str(exc)) from None
        req.state.repository = repo
        return None

    async def reconcile_select(self, req: Request[PolicyState]) -> Result | None:
        """Choose the latest tag from the repository's stored tags."""
        try:
            selection.validate(req.spec)
        except selection.InvalidPolicyError as exc:
            raise StallingError(ic.INVALID_POLICY, str(exc)) from None
        repo = req.state.repository
        assert repo is not None
        rmeta = repo["metadata"]
        tags = await asyncio.to_thread(self.store.tags, rmeta.get("namespace") or "", rmeta["name"])
        if not tags:
            seconds = f"{self.requeue_dependency:.0f}s"
            message = f"retrying in {seconds} error: no tags in database"
            raise WaitingError(ic.DEPENDENCY_NOT_READY, message, self.requeue_dependency)
        try:
            req.state.tag = selection.select(req.spec, tags)
        except selection.NoMatchError as exc:
            raise GenericError(meta.FAILED, str(exc)) from None
        except selection.InvalidPolicyError as exc:
            raise StallingError(ic.INVALID_POLICY, str(exc)) from None
        return None

    async def reconcile_digest(self, req: Request[PolicyState]) -> Result | None:
        """Look up the chosen tag's digest when the policy asks, and record latestRef."""
        repo = req.state.repository
        assert repo is not None
        spec = repo.get("spec") or {}
        latest: Obj = {"name": str(spec.get("image") or ""), "tag": req.state.tag}
        current = req.status.get("latestRef") or None
        reflect = defaults.value(req.obj, image_v1.ImagePolicySpec, "digest_reflection_policy")
        fetch = reflect == "Always"
        if reflect == "IfNotPresent":
            same = current and current.get("name") == latest["name"] and current.get("tag") == latest["tag"]
            fetch = not same or not (current or {}).get("digest")
            if not fetch and current:
                latest["digest"] = current["digest"]
        if fetch:
            latest["digest"] = await self._digest(req, repo, latest)
        if current != latest:
            if current is None:
                req.status.pop("observedPreviousRef", None)
            else:
                req.status["observedPreviousRef"] = current
            req.status["latestRef"] = latest
        return None

    async def _digest(self, req: Request[PolicyState], repo: Obj, latest: Obj) -> str:
        spec = repo.get("spec") or {}
        ref = parse_image(str(spec.get("image") or ""))
        rmeta = repo["metadata"]
        timeout_text = spec.get("timeout") or spec.get("interval") or "60s"
        timeout = durations.parse(str(timeout_text))
        what = image_ref_string(latest)
        try:
            client = await ociremote.registry_client(
                req.client, rmeta.get("namespace") or "", spec, ref.registry, timeout=timeout
            )
            return await asyncio.to_thread(client.resolve, ref.repository, str(latest["tag"]))
        except ociremote.RemoteConfigError as exc:
            message = f"failed fetching digest of {what}: failed to configure authentication options: {exc}"
            raise GenericError(meta.FAILED, message) from None
        except RegistryError as exc:
            message = (
                f'failed fetching digest of {what}: failed fetching descriptor for "{ref.name}:{latest["tag"]}": {exc}'
            )
            raise GenericError(meta.FAILED, message) from None
