"""Drift of desired objects against the cluster, as fluxcd/pkg/ssa's jsondiff computes it for Flux's
helm-controller: each object is server-side applied in dry-run mode (forced, by the field manager) and the
result compared with the live object; an object that is gone is `create`, one that differs `update` (with
the RFC 6902 patch from live to desired), an excluded one `exclude`. `correct` applies what drifted.

`json_patch`, `summary` and `brief` are pure; `detect` and `correct` are the side effects.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.ssa import plan

Obj = dict[str, Any]
CREATE: Final = "create"  # the object is missing from the cluster
UPDATE: Final = "update"  # the object differs from what an apply would make it
NONE: Final = "none"
EXCLUDE: Final = "exclude"  # the object opts out (an exclusion label or annotation)
MASK: Final = "***"


@dataclass(frozen=True)
class Drift:
    """One desired object and how the cluster differs from it."""

    desired: Obj
    type: str
    patch: tuple[Obj, ...] = ()

    @property
    def subject(self) -> str:
        """`Kind/namespace/name` (`Kind/name` for a cluster-scoped object), as Flux names it."""
        meta = self.desired.get("metadata") or {}
        ns = meta.get("namespace")
        return "/".join(str(p) for p in (self.desired.get("kind"), ns, meta.get("name")) if p)

    def counts(self) -> tuple[int, int, int]:
        """The patch's additions, changes and removals."""
        ops = [op["op"] for op in self.patch]
        return ops.count("add"), ops.count("replace"), ops.count("remove")


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def json_patch(live: Any, desired: Any, path: str = "") -> list[Obj]:
    """The RFC 6902 operations that turn `live` into `desired` (objects key by key, lists of equal length
    item by item, anything else replaced whole)."""
    if isinstance(live, Mapping) and isinstance(desired, Mapping):
        ops: list[Obj] = []
        for key in sorted(set(live) | set(desired)):
            where = f"{path}/{_escape(str(key))}"
            if key not in live:
                ops.append({"op": "add", "path": where, "value": desired[key]})
            elif key not in desired:
                ops.append({"op": "remove", "path": where})
            else:
                ops.extend(json_patch(live[key], desired[key], where))
        return ops
    if isinstance(live, list) and isinstance(desired, list) and len(live) == len(desired):
        return [
            op for i, (a, b) in enumerate(zip(live, desired, strict=True)) for op in json_patch(a, b, f"{path}/{i}")
        ]
    if live == desired:
        return []
    return [{"op": "replace", "path": path, "value": desired}]  # "" is the whole document


def summary(drifts: Sequence[Drift]) -> str:
    """Flux's SummarizeDiffSet: one line per removed, excluded or changed object."""
    lines = []
    for drift in drifts:
        if drift.type == CREATE:
            lines.append(f"{drift.subject} removed")
        elif drift.type == EXCLUDE:
            lines.append(f"{drift.subject} excluded")
        elif drift.type == UPDATE:
            added, changed, removed = drift.counts()
            lines.append(f"{drift.subject} changed ({added} additions, {changed} changes, {removed} removals)")
    return "\n".join(lines)


def changed(drifts: Sequence[Drift]) -> list[Drift]:
    """The drifts a correction would apply (missing or changed objects)."""
    return [d for d in drifts if d.type in (CREATE, UPDATE)]


def _excluded(obj: Mapping[str, Any], exclusions: Mapping[str, str]) -> bool:
    meta = obj.get("metadata") or {}
    found = {**(meta.get("labels") or {}), **(meta.get("annotations") or {})}
    return any(found.get(k) == v for k, v in exclusions.items())


def _masked(obj: Obj) -> Obj:
    """A Secret with its values masked (the diff of a Secret shows which keys changed, never their values)."""
    if obj.get("kind") != "Secret":
        return obj
    out = copy.deepcopy(obj)
    for key in ("data", "stringData"):
        if isinstance(out.get(key), dict):
            out[key] = {k: MASK + hashlib.sha256(str(v).encode()).hexdigest()[:8] for k, v in out[key].items()}
    return out


async def detect(
    client: Client,
    objects: Sequence[Obj],
    *,
    field_manager: str,
    exclusions: Mapping[str, str],
    ignore: Callable[[Obj], list[str]] | None = None,
) -> list[Drift]:
    """How the cluster differs from each object (applied in dry-run mode, forced, as `field_manager`); the
    JSON Pointer paths `ignore(obj)` gives are left out of the comparison."""
    out: list[Drift] = []
    for obj in objects:
        if _excluded(obj, exclusions):
            out.append(Drift(obj, EXCLUDE))
            continue
        res = await client.resource_for(str(obj.get("apiVersion")), str(obj.get("kind")))
        meta = obj.get("metadata") or {}
        if not res.namespaced and "namespace" in meta:
            obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "namespace"}}
        namespace = meta.get("namespace") if res.namespaced else None
        live = await client.get_or_none(res, str(meta.get("name")), namespace)
        if live is None:
            out.append(Drift(obj, CREATE))
            continue
        dry = await client.apply(res, obj, field_manager=field_manager, force=True, dry_run=True)
        before, after = plan.comparable(live), plan.comparable(dry)
        paths = ignore(obj) if ignore is not None else []
        if paths:
            plan.remove_paths(before, paths)
            plan.remove_paths(after, paths)
        patch = json_patch(_masked(before), _masked(after))
        out.append(Drift(obj, UPDATE if patch else NONE, tuple(patch)))
    return out


async def correct(client: Client, drifts: Sequence[Drift], *, field_manager: str) -> tuple[list[str], list[str]]:
    """Apply every missing or changed object again (forced, as `field_manager`); returns the corrections made
    (`Kind/namespace/name created|configured`) and the errors met."""
    done: list[str] = []
    errors: list[str] = []
    for drift in changed(drifts):
        obj = drift.desired
        try:
            res = await client.resource_for(str(obj.get("apiVersion")), str(obj.get("kind")))
            await client.apply(res, obj, field_manager=field_manager, force=True)
        except ApiError as exc:
            errors.append(f"{drift.subject}: {exc}")
            continue
        done.append(f"{drift.subject} {'created' if drift.type == CREATE else 'configured'}")
    return done, errors
