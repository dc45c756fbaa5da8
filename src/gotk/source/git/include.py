"""GitRepository `spec.include`: look up the included GitRepositories' artifacts (Flux's
fetchIncludes), copy `fromPath` of each into `toPath` of the checkout from local storage, and
`watch`, the informer handler that re-queues includers when an included artifact changes.
Called by `gotk.source.git.reconciler`.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gotk.api import source_conditions as sc
from gotk.kube.resources import Resource
from gotk.runtime import artifacts, conditions
from gotk.runtime.informer import Key, key_of
from gotk.runtime.reconciler import Request
from gotk.runtime.results import GenericError, StallingError, WaitingError
from gotk.source.storage import Storage

__all__ = ["REQUEUE", "changed", "copy", "fetch", "watch"]

Obj = dict[str, Any]
REQUEUE = 30.0  # Flux's --requeue-dependency default: retry a missing include this often


def changed(current: Sequence[Obj], observed: Sequence[Obj] | None) -> bool:
    """Whether the included artifacts (by revision and digest, in spec order) differ from the status."""
    observed = observed or []
    return len(current) != len(observed) or any(
        (a.get("revision"), a.get("digest")) != (b.get("revision"), b.get("digest"))
        for a, b in zip(current, observed, strict=True)
    )


async def fetch(req: Request[Any], resource: Resource, *, requeue: float = REQUEUE) -> list[Obj]:
    """The artifacts of the GitRepositories (`resource`) that `req` includes, in spec order (Flux's
    fetchIncludes): a missing repository or artifact waits `requeue` seconds with IncludeUnavailable."""
    found: list[Obj] = []
    for inc in req.spec.get("include") or []:
        name = str((inc.get("repository") or {}).get("name") or "")
        other = await req.client.get_or_none(resource, name, req.namespace)
        art = ((other or {}).get("status") or {}).get("artifact")
        if other is None:
            reason = "NotFound"
            message = (
                f"could not get resource for include '{name}': {resource.plural}.{resource.group} \"{name}\" not found"
            )
        elif not art:
            reason, message = "NoArtifact", f"no artifact available for include '{name}'"
        else:
            found.append(dict(art))
            continue
        conditions.mark_true(req.obj, sc.INCLUDE_UNAVAILABLE, reason, message)
        raise WaitingError(reason, message, requeue)
    conditions.delete(req.obj, sc.INCLUDE_UNAVAILABLE)
    return found


async def copy(req: Request[Any], storage: Storage, root: Path, included: Sequence[Obj]) -> None:
    """Copy `fromPath` of each included artifact (read from local `storage`, digest checked) into
    `toPath` (default: the repository's name) of the checkout at `root`; neither may leave its tree."""
    for index, (inc, art) in enumerate(zip(req.spec.get("include") or [], included, strict=True)):
        name = str((inc.get("repository") or {}).get("name") or "")
        to_path, from_path = str(inc.get("toPath") or name), str(inc.get("fromPath") or "")
        target = (root / to_path).resolve()
        if not target.is_relative_to(root.resolve()) or target == root.resolve():
            message = f"path calculation for include '{name}' failed: '{to_path}' is not a directory below the root"
            conditions.mark_true(req.obj, sc.STORAGE_OPERATION_FAILED, "IllegalPath", message)
            raise StallingError("IllegalPath", message)
        staging = root.parent / f"include-{index}"
        try:
            await asyncio.to_thread(_unpack, storage, art, staging)
            source = (staging / from_path).resolve()
            if not source.is_relative_to(staging.resolve()) or not source.exists():
                raise OSError(f"fromPath '{from_path}' does not exist in the artifact")
            await asyncio.to_thread(_copy, source, target)
        except (OSError, artifacts.ArtifactError) as exc:
            message = f"failed to copy '{name}' include from {from_path or '.'} to {to_path}: {exc}"
            conditions.mark_true(req.obj, sc.STORAGE_OPERATION_FAILED, "CopyFailure", message)
            raise GenericError("CopyFailure", message) from None


def _unpack(storage: Storage, artifact: Obj, dest: Path) -> None:
    if not storage.verify(artifact):
        raise OSError(f"artifact '{artifact.get('path')}' is missing from storage or its digest does not match")
    artifacts.safe_extract(storage.local_path(str(artifact["path"])), dest, max_size=None)


def _included_names(obj: Obj) -> set[str]:
    return {str((i.get("repository") or {}).get("name") or "") for i in (obj.get("spec") or {}).get("include") or []}


def watch(
    lookup: Callable[[str], list[Obj]], enqueue: Callable[[Key], None]
) -> Callable[[Obj | None, Obj | None], None]:
    """An informer handler: when a GitRepository's artifact changes, enqueue the GitRepositories of its
    namespace (from `lookup(namespace)`) that include it, so they pick it up now rather than at their
    next interval. Includers that the changed one itself includes, directly or not, are left to their
    interval: an include cycle must not turn into a hot loop."""

    def handler(old: Obj | None, new: Obj | None) -> None:
        if new is None:
            return
        art = (new.get("status") or {}).get("artifact") or {}
        before = ((old or {}).get("status") or {}).get("artifact") or {}
        if not art or (art.get("revision"), art.get("digest")) == (before.get("revision"), before.get("digest")):
            return
        namespace, name = key_of(new)
        repos = {key_of(o)[1]: o for o in lookup(namespace)}
        upstream: set[str] = set()
        pending = list(_included_names(new))
        while pending:  # everything the changed repository includes, transitively
            current = pending.pop()
            if current not in upstream:
                upstream.add(current)
                pending.extend(_included_names(repos.get(current) or {}))
        for other_name, other in repos.items():
            if name in _included_names(other) and other_name not in upstream and other_name != name:
                enqueue((namespace, other_name))

    return handler


def _copy(src: Path, dest: Path) -> None:
    """Copy a directory's contents into `dest` (merging), or a single file to `dest`."""
    if src.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        return
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dest, dirs_exist_ok=True, symlinks=False)
