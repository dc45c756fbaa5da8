"""Server-side apply in stages, with a full dry-run of each stage before any write (the one writer of manifests).

Stage 0 (CRDs, Namespaces, ClusterRoles) is applied and waited on (CRDs Established) before stage 1
(`*Class` kinds) and stage 2 (the rest). Unchanged objects are not written, so their resourceVersion stays.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from gotk.kube.client import Client
from gotk.kube.errors import ApiError, ResourceNotFound
from gotk.kube.resources import CRDS, Resource
from gotk.ssa import plan

Obj = dict[str, Any]
T = TypeVar("T")
PREFETCH_MIN = 16  # objects of one kind in one namespace before a LIST replaces single GETs


class ApplyError(Exception):
    """One or more objects could not be applied; `errors` maps subject -> the API server's message."""

    def __init__(self, errors: Mapping[str, str], *, dry_run: bool) -> None:
        self.errors = dict(errors)
        self.dry_run = dry_run
        lines = [f"{subject} {'dry-run ' if dry_run else ''}failed: {msg}" for subject, msg in sorted(errors.items())]
        super().__init__("\n".join(lines))


@dataclass
class _Planned:
    desired: Obj
    resource: Resource
    live: Obj | None
    dry: Obj | None = None
    action: str = plan.UNCHANGED
    fingerprint: str = ""


class ApplyMemory:
    """What this process last applied to each object, and the resourceVersion the object had then.

    When an object still has that resourceVersion and the desired state has the same fingerprint, an apply
    would change nothing, so its dry-run is skipped. Any change by anyone bumps the resourceVersion.
    """

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self._seen: dict[str, tuple[str, str]] = {}

    @staticmethod
    def _key(obj: Mapping[str, Any]) -> str:
        return f"{obj.get('apiVersion')}|{plan.obj_id(obj)}"

    def knows(self, desired: Mapping[str, Any]) -> bool:
        return self._key(desired) in self._seen

    def unchanged(self, desired: Mapping[str, Any], fingerprint: str, live: Mapping[str, Any]) -> bool:
        rv = (live.get("metadata") or {}).get("resourceVersion")
        return self._seen.get(self._key(desired)) == (fingerprint, rv)

    def remember(self, desired: Mapping[str, Any], fingerprint: str, live: Mapping[str, Any]) -> None:
        rv = (live.get("metadata") or {}).get("resourceVersion")
        if not rv:
            return
        if len(self._seen) >= self.max_entries:
            self._seen.clear()
        self._seen[self._key(desired)] = (fingerprint, str(rv))

    def forget(self, obj: Mapping[str, Any]) -> None:
        self._seen.pop(self._key(obj), None)


def _is_immutable(exc: ApiError) -> bool:
    text = exc.message.lower()
    return exc.invalid and ("immutable" in text or "may not change" in text or "cannot change" in text)


class ResourceManager:
    """Applies and deletes manifests for one field manager (e.g. `kustomize-controller`)."""

    def __init__(
        self,
        client: Client,
        *,
        field_manager: str,
        concurrency: int = 8,
        override_managers: Sequence[str] = plan.DEFAULT_OVERRIDE_MANAGERS,
        memory: ApplyMemory | None = None,
    ) -> None:
        self.memory = memory
        self.client = client
        self.field_manager = field_manager
        self.concurrency = concurrency
        self.override_managers = tuple(override_managers)

    async def _gather(self, items: Iterable[T], fn: Callable[[T], Awaitable[Any]]) -> list[Any]:
        sem = asyncio.Semaphore(self.concurrency)

        async def one(item: T) -> Any:
            async with sem:
                return await fn(item)

        return await asyncio.gather(*(one(i) for i in items), return_exceptions=True)

    async def resource(self, obj: Mapping[str, Any]) -> Resource:
        return await self.client.resource_for(str(obj.get("apiVersion")), str(obj.get("kind")))

    async def apply_all_staged(
        self,
        objects: Sequence[Obj],
        *,
        force: bool = False,
        ignore: Callable[[Obj], list[str]] | None = None,
        wait_timeout: float = 60.0,
    ) -> plan.ChangeSet:
        """Apply `objects` (already prepared) stage by stage; raise ApplyError and write nothing more on failure."""
        changes = plan.ChangeSet()
        for stage in plan.stages(objects):
            changes.extend(await self.apply_stage(stage, force=force, ignore=ignore))
            if any(o.get("kind") == "CustomResourceDefinition" for o in stage):
                await self.wait_crds_established(
                    [o for o in stage if o.get("kind") == "CustomResourceDefinition"], wait_timeout
                )
                self.client.invalidate_discovery()
        return changes

    async def apply_stage(
        self, objects: Sequence[Obj], *, force: bool = False, ignore: Callable[[Obj], list[str]] | None = None
    ) -> plan.ChangeSet:
        changes = plan.ChangeSet()
        todo = [o for o in objects if not plan.skipped(o)]
        for o in objects:
            if plan.skipped(o):
                changes.add(o, plan.SKIPPED)

        # plan: look up every object and dry-run the whole stage before writing anything
        known = await self._prefetch(todo)
        results = await self._gather(todo, lambda o: self._plan(o, ignore, force, known))
        errors: dict[str, str] = {}
        planned: list[_Planned] = []
        for obj, res in zip(todo, results, strict=True):
            if isinstance(res, BaseException):
                errors[plan.subject(obj)] = _message(res)
            else:
                planned.append(res)
        if errors:
            raise ApplyError(errors, dry_run=True)

        # write what changed
        writes = [p for p in planned if p.action in (plan.CREATED, plan.CONFIGURED)]
        results = await self._gather(writes, lambda p: self._write(p, force))
        for p, res in zip(writes, results, strict=True):
            if isinstance(res, BaseException):
                errors[plan.subject(p.desired)] = _message(res)
        if errors:
            raise ApplyError(errors, dry_run=False)
        for p in planned:
            changes.add(p.desired, p.action)
        return changes

    async def _prefetch(self, objects: Sequence[Obj]) -> dict[tuple[str, str, str], Obj]:
        """Live objects we already own, by (apiVersion/kind, namespace, name): one LIST per large group
        (selected by our owner labels) instead of one GET per object. Objects not found are looked up singly."""
        groups: dict[tuple[str, str, str], list[Obj]] = {}
        for obj in objects:
            meta = obj.get("metadata") or {}
            key = (str(obj.get("apiVersion")), str(obj.get("kind")), str(meta.get("namespace") or ""))
            groups.setdefault(key, []).append(obj)
        found: dict[tuple[str, str, str], Obj] = {}
        for (api_version, kind, namespace), members in groups.items():
            labels = (members[0].get("metadata") or {}).get("labels") or {}
            owner = {k: v for k, v in labels.items() if k in plan.OWNER_LABELS}
            if len(members) < PREFETCH_MIN or len(owner) != len(plan.OWNER_LABELS):
                continue
            res = await self.resource(members[0])
            selector = ",".join(f"{k}={v}" for k, v in sorted(owner.items()))
            page = await self.client.list(res, namespace if res.namespaced else None, label_selector=selector)
            for live in page["items"]:
                found[(f"{api_version}/{kind}", namespace, live["metadata"]["name"])] = live
        return found

    async def _plan(
        self,
        obj: Obj,
        ignore: Callable[[Obj], list[str]] | None,
        force: bool,
        known: Mapping[tuple[str, str, str], Obj],
    ) -> _Planned:
        res = await self.resource(obj)
        meta = obj["metadata"]
        namespace = meta.get("namespace") if res.namespaced else None
        live = known.get((f"{obj.get('apiVersion')}/{obj.get('kind')}", str(meta.get("namespace") or ""), meta["name"]))
        dry: Obj | None = None
        error: ApiError | None = None
        if live is None and self._dry_run_first(obj, ignore):
            # not applied by this process before: the dry-run itself says whether the object exists (201)
            try:
                dry, created = await self.client.apply_created(
                    res, obj, field_manager=self.field_manager, force=True, dry_run=True
                )
                if created:
                    return _Planned(obj, res, None, dry, plan.CREATED, plan.fingerprint(obj))
            except ApiError as exc:
                error = exc  # decided below from the live object: skip, recreate or fail
        if live is None:
            live = await self.client.get_or_none(res, meta["name"], namespace)
            if live is None and error is not None:
                raise error
        desired = obj
        if live is not None and ignore is not None:
            paths = ignore(obj)
            if paths:
                desired = copy.deepcopy(obj)
                plan.adopt_paths(desired, live, paths, self.field_manager)
        p = _Planned(desired=desired, resource=res, live=live)
        policy = plan.ssa_policy(obj)
        if live is not None and (policy == "ifnotpresent" or plan.skipped(live)):  # Flux's shouldSkipApply
            p.action = plan.SKIPPED
            return p
        p.fingerprint = plan.fingerprint(desired)
        if dry is None and error is None:
            if (
                live is not None
                and self.memory is not None
                and self.memory.unchanged(desired, p.fingerprint, live)
                and not self._needs_takeover(live, policy)
            ):
                return p  # applied by us in this state and untouched since: no dry-run needed
            try:
                dry = await self.client.apply(res, desired, field_manager=self.field_manager, force=True, dry_run=True)
            except ApiError as exc:
                error = exc
        if error is not None:
            recreate = force or plan.annotation(obj, plan.FORCE_ANNOTATION).lower() == "enabled"
            if live is not None and recreate and _is_immutable(error):
                p.action = plan.CONFIGURED  # recreated at write time
                return p
            raise error
        p.dry = dry
        if live is None:
            p.action = plan.CREATED
        elif dry is not None and (plan.differs(live, dry) or self._needs_takeover(live, policy)):
            p.action = plan.CONFIGURED
        elif self.memory is not None:
            self.memory.remember(desired, p.fingerprint, live)
        return p

    def _dry_run_first(self, obj: Obj, ignore: Callable[[Obj], list[str]] | None) -> bool:
        """Whether to dry-run before looking the object up: for objects this process has not applied yet,
        whose plan needs nothing of the live object (no ignore rules, not IfNotPresent)."""
        if self.memory is not None and self.memory.knows(obj):
            return False
        if plan.ssa_policy(obj) == "ifnotpresent":
            return False
        return not (ignore is not None and ignore(obj))

    def _needs_takeover(self, live: Obj, policy: str) -> bool:
        return policy != "merge" and plan.takeover_patch(live, self.field_manager, self.override_managers) is not None

    async def _write(self, p: _Planned, force: bool) -> None:
        obj, res, live = p.desired, p.resource, p.live
        meta = obj["metadata"]
        namespace = meta.get("namespace") if res.namespaced else None
        if live is not None and plan.ssa_policy(obj) != "merge":
            patch = plan.takeover_patch(live, self.field_manager, self.override_managers)
            if patch is not None:
                try:
                    await self.client.patch(res, meta["name"], patch, namespace, patch_type="json")
                except ApiError as exc:
                    if not (exc.conflict or exc.invalid):
                        raise
        try:
            result = await self.client.apply(res, obj, field_manager=self.field_manager, force=True)
        except ApiError as exc:
            recreate = force or plan.annotation(obj, plan.FORCE_ANNOTATION).lower() == "enabled"
            if not (recreate and _is_immutable(exc) and live is not None):
                raise
            await self.client.delete(res, meta["name"], namespace, propagation="Background")
            await self._wait_gone(res, meta["name"], namespace, 60.0)
            result = await self.client.apply(res, obj, field_manager=self.field_manager, force=True)
        if self.memory is not None and p.fingerprint:
            self.memory.remember(obj, p.fingerprint, result)

    async def _wait_gone(self, res: Resource, name: str, namespace: str | None, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if await self.client.get_or_none(res, name, namespace) is None:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{res.kind}/{name} was not deleted within {timeout:.0f}s")

    async def wait_crds_established(self, crds: Sequence[Obj], timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pending = {c["metadata"]["name"] for c in crds}
        while pending:
            for name in list(pending):
                live = await self.client.get_or_none(CRDS, name)
                conds = ((live or {}).get("status") or {}).get("conditions") or []
                if any(c.get("type") == "Established" and c.get("status") == "True" for c in conds):
                    pending.discard(name)
            if not pending:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"CustomResourceDefinitions not established: {', '.join(sorted(pending))}")
            await asyncio.sleep(0.1)

    async def delete_all(
        self,
        entries: Sequence[tuple[str, str, str, str, str]],
        *,
        owner_labels: Mapping[str, str],
        propagation: str = "Background",
    ) -> plan.ChangeSet:
        """Delete objects given as (namespace, name, group, version, kind) if they still carry `owner_labels`.

        Objects annotated prune: disabled, ssa: Ignore or reconcile: disabled, and objects whose labels
        say another owner now manages them, are skipped. Missing objects count as deleted.
        """
        changes = plan.ChangeSet()

        async def one(entry: tuple[str, str, str, str, str]) -> tuple[Obj, str]:
            namespace, name, group, version, kind = entry
            api_version = f"{group}/{version}" if group else version
            stub: Obj = {
                "apiVersion": api_version,
                "kind": kind,
                "metadata": {"name": name, "namespace": namespace or None},
            }
            try:
                res = await self.client.resource_for(api_version, kind)
            except ResourceNotFound:
                return stub, plan.DELETED
            live = await self.client.get_or_none(res, name, namespace or None)
            if live is None:
                return stub, plan.DELETED
            labels = (live.get("metadata") or {}).get("labels") or {}
            if any(labels.get(k) != v for k, v in owner_labels.items()):
                return live, plan.SKIPPED
            if plan.is_disabled(live, plan.PRUNE_ANNOTATION) or plan.skipped(live):
                return live, plan.SKIPPED
            await self.client.delete(res, name, namespace or None, propagation=propagation)
            return live, plan.DELETED

        # namespaced objects first, then cluster-scoped ones (namespaces, CRDs) last
        ordered = sorted(entries, key=lambda e: (not e[0], e[4] == "CustomResourceDefinition"))
        results = await self._gather(ordered, one)
        errors: dict[str, str] = {}
        for entry, res in zip(ordered, results, strict=True):
            if isinstance(res, BaseException):
                errors[f"{entry[4]}/{entry[0] + '/' if entry[0] else ''}{entry[1]}"] = _message(res)
            else:
                obj, action = res
                changes.add(obj, action)
        if errors:
            raise ApplyError(errors, dry_run=False)
        return changes


def _message(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return exc.message
    return str(exc) or type(exc).__name__
