"""The ImageRepository reconciler: parse the image, then scan its tags when it is time (Flux's rules: never
scanned, a new requestedAt, a new image name or exclusion list, no stored tags, or the interval elapsed),
filter them through `exclusionList`, and keep them in the tag store. A failed scan leaves the stored tags and
the last `lastScanResult` in place, so policies keep choosing from them.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from gotk.api import defaults, image_v1, meta
from gotk.api import image_conditions as ic
from gotk.image.selection import InvalidPolicyError, compile_go_regexp
from gotk.image.store import TagStore
from gotk.kube.resources import Resource, flux_resource
from gotk.runtime import conditions
from gotk.runtime.conditions import ConditionTable
from gotk.runtime.oci import refs
from gotk.runtime.oci import remote as ociremote
from gotk.runtime.oci.model import RegistryError
from gotk.runtime.reconciler import NamedStep, Request
from gotk.runtime.results import GenericError, Result, StallingError

__all__ = ["CONTROLLER", "ImageRepositoryReconciler", "parse_image", "scan_reason"]

Obj = dict[str, Any]
CONTROLLER: Final = "image-reflector-controller"
IMAGE_REPOSITORIES: Final[Resource] = flux_resource("ImageRepository")
LATEST_TAGS: Final = 10


def _ready_message(obj: Mapping[str, Any]) -> tuple[str, str]:
    scan = (obj.get("status") or {}).get("lastScanResult") or {}
    count, checksum = scan.get("tagCount", 0), scan.get("revision", "")
    return meta.SUCCEEDED, f"successful scan: found {count} tags with checksum {checksum}"


CONDITIONS: Final = ConditionTable(owned=(meta.READY, meta.RECONCILING, meta.STALLED), success=_ready_message)


def parse_image(image: str, *, insecure: bool = False) -> refs.Reference:
    """`spec.image` as Flux's `registry.ParseImageReference`: no scheme, no tag; raises ValueError."""
    del insecure  # the scheme is tried per request by the registry client
    parts = image.split("://")
    if len(parts) > 1:
        raise ValueError(f"image '{image}' should not include URL scheme; remove '{parts[0]}://'")
    try:
        ref = refs.parse(image)
    except refs.ReferenceError as exc:
        raise ValueError(f"could not parse reference: {image}: {exc}") from None
    rest = image.removeprefix(ref.registry)
    pieces = rest.split(":")
    if len(pieces) > 1 and not ref.digest:
        raise ValueError(f"image '{image}' should not include a tag; remove ':{pieces[1]}'")
    if ref.digest:
        raise ValueError(f"image '{image}' should not include a digest")
    return ref


def exclusion_list(obj: Mapping[str, Any]) -> list[str]:
    """`spec.exclusionList`, or the declared default (`^.*\\.sig$`) when unset."""
    found = (obj.get("spec") or {}).get("exclusionList")
    if found is None:
        return list(defaults.default(image_v1.ImageRepositorySpec, "exclusion_list"))
    return [str(p) for p in found]


def filter_tags(tags: list[str], patterns: list[str]) -> list[str]:
    """The tags no exclusion pattern matches, sorted descending (Flux stores them in that order)."""
    compiled: list[re.Pattern[str]] = []
    for pattern in patterns:
        try:
            compiled.append(compile_go_regexp(pattern))
        except InvalidPolicyError as exc:
            raise ValueError(f"failed to compile regex {pattern}: {exc}") from None
    kept = [t for t in tags if not any(p.search(t) for p in compiled)]
    return sorted(kept, reverse=True)


def scan_reason(obj: Mapping[str, Any], canonical: str, stored: bool, now: float) -> tuple[str | None, float]:
    """Why the repository must be scanned now (None: not yet) and the seconds until the next scan."""
    interval = defaults.duration(obj, image_v1.ImageRepositorySpec, "interval")
    status = obj.get("status") or {}
    scan = status.get("lastScanResult")
    if not scan:
        return "first scan", interval
    if conditions.reconcile_requested(obj):
        return "reconcile requested", interval
    if canonical != status.get("canonicalImageName"):
        return "new image name", interval
    if sorted(exclusion_list(obj)) != sorted(status.get("observedExclusionList") or []):
        return "updated exclusion list", interval
    if not stored:
        return "no tags in database", interval
    try:
        last = datetime.fromisoformat(str(scan.get("scanTime") or "")).timestamp()
    except ValueError:
        return "triggered by interval", interval
    remaining = interval - (now - last)
    if remaining < 1:
        return "triggered by interval", interval
    return None, remaining


@dataclass
class RepoState:
    """What the ImageRepository steps hand on: the parsed image."""

    ref: refs.Reference | None = None


class ImageRepositoryReconciler:
    """Scans an image repository's tags into the tag store."""

    controller_name = CONTROLLER
    resource = IMAGE_REPOSITORIES
    condition_table = CONDITIONS

    def __init__(self, store: TagStore) -> None:
        self.store = store

    def new_state(self) -> RepoState:
        """A fresh step state for one reconcile."""
        return RepoState()

    def steps(self) -> Sequence[NamedStep[RepoState]]:
        return (NamedStep("image", self.reconcile_image), NamedStep("scan", self.reconcile_scan))

    def interval(self, obj: Obj) -> float:
        return defaults.duration(obj, image_v1.ImageRepositorySpec, "interval")

    def retry_interval(self, obj: Obj) -> float | None:
        return None

    def timeout(self, obj: Obj) -> float:
        found = defaults.optional_duration(obj, image_v1.ImageRepositorySpec, "timeout")
        return found if found is not None else self.interval(obj)

    async def finalize(self, req: Request[RepoState]) -> Result | None:
        """Forget the stored tags of a deleted repository."""
        await asyncio.to_thread(self.store.delete, req.namespace, req.name)
        return None

    async def reconcile_image(self, req: Request[RepoState]) -> Result | None:
        """Parse `spec.image`; a malformed one stalls with ImageURLInvalid."""
        try:
            req.state.ref = parse_image(str(req.spec.get("image") or ""), insecure=bool(req.spec.get("insecure")))
        except ValueError as exc:
            raise StallingError(ic.IMAGE_URL_INVALID, str(exc)) from None
        if req.generation != (req.status.get("observedGeneration") or -1):
            old = req.status.get("observedGeneration") or -1
            conditions.mark_reconciling(
                req.obj, meta.PROGRESSING, f"processing object: new generation {old} -> {req.generation}"
            )
        return None

    async def reconcile_scan(self, req: Request[RepoState]) -> Result | None:
        """Scan the tags when it is time; store them and record the scan result."""
        ref = req.state.ref
        assert ref is not None
        canonical = ref.name
        stored = bool(await asyncio.to_thread(self.store.tags, req.namespace, req.name))
        reason, when = scan_reason(req.obj, canonical, stored, time.time())
        if reason is not None:
            conditions.mark_reconciling(req.obj, meta.PROGRESSING, f"scanning: {reason}")
            req.progress(f"scanning: {reason}")
            await self._scan(req, ref)
        req.status["canonicalImageName"] = canonical
        req.status["observedExclusionList"] = exclusion_list(req.obj)
        return Result(requeue_after=when)

    async def _scan(self, req: Request[RepoState], ref: refs.Reference) -> None:
        try:
            client = await ociremote.registry_client(
                req.client, req.namespace, req.spec, ref.registry, timeout=self.timeout(req.obj)
            )
        except ociremote.UnsupportedProviderError as exc:  # cloud workload identity: refused, not retried
            raise StallingError(
                ic.AUTHENTICATION_FAILED, f"failed to configure authentication options: {exc}"
            ) from None
        except ociremote.RemoteConfigError as exc:
            message = f"failed to configure authentication options: {exc}"
            raise GenericError(ic.AUTHENTICATION_FAILED, message) from None
        try:
            tags = await asyncio.wait_for(
                asyncio.to_thread(client.list_tags, ref.repository), timeout=self.timeout(req.obj)
            )
        except TimeoutError:
            raise GenericError(ic.READ_OPERATION_FAILED, "scan failed: context deadline exceeded") from None
        except RegistryError as exc:
            raise GenericError(ic.READ_OPERATION_FAILED, f"scan failed: {exc}") from None
        try:
            kept = filter_tags(tags, exclusion_list(req.obj))
        except ValueError as exc:
            raise GenericError(ic.READ_OPERATION_FAILED, f"scan failed: {exc}") from None
        try:
            revision = await asyncio.to_thread(self.store.set_tags, req.namespace, req.name, kept)
        except OSError as exc:
            message = f'scan failed: failed to set tags for "{ref.name}": {exc}'
            raise GenericError(ic.READ_OPERATION_FAILED, message) from None
        scan: Obj = {
            "revision": revision,
            "tagCount": len(kept),
            "scanTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if kept:
            scan["latestTags"] = kept[:LATEST_TAGS]
        req.status["lastScanResult"] = scan
