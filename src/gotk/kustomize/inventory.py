"""The Kustomization inventory (status.inventory.entries, Flux's `{id, v}` format) and the prune plan.

Pure: entries from objects, entries to objects' coordinates, and what the new set leaves behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gotk.ssa import plan

Obj = dict[str, Any]
Entry = dict[str, str]
# (namespace, name, group, version, kind)
Coordinates = tuple[str, str, str, str, str]


def entries(objects: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """Inventory entries for `objects`, sorted by id."""
    seen: dict[str, str] = {}
    for obj in objects:
        seen[plan.obj_id(obj)] = plan.version_of(obj)
    return [{"id": i, "v": v} for i, v in sorted(seen.items())]


def coordinates(entry: Mapping[str, str]) -> Coordinates:
    namespace, name, group, kind = plan.parse_id(entry["id"])
    return namespace, name, group, entry.get("v", "v1"), kind


def stale(old: Sequence[Mapping[str, str]], new: Sequence[Mapping[str, str]]) -> list[Coordinates]:
    """Objects in the old inventory that the new one no longer has (the prune candidates).

    An object whose id stays but whose API version changed is the same object: it is not pruned.
    """
    keep = {e["id"] for e in new}
    return [coordinates(e) for e in old if e["id"] not in keep]


def of_status(status: Mapping[str, Any]) -> list[Entry]:
    inv = status.get("inventory") or {}
    return [dict(e) for e in inv.get("entries") or []]
