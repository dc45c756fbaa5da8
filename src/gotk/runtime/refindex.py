"""`RefIndex`: which objects refer to which (a Kustomization to its source and dependencies, a HelmChart to
its source), kept up to date from informer events, so that a change enqueues exactly the referrers.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

Obj = dict[str, Any]


class RefIndex:
    """Maps what objects refer to (`refs(obj)`) to the (namespace, name) of the objects referring to it."""

    def __init__(self, refs: Callable[[Obj], Iterable[Hashable]]) -> None:
        self._refs = refs
        self._users: dict[Hashable, set[tuple[str, str]]] = {}

    def update(self, ks: Obj | None, old: Obj | None) -> None:
        for obj, add in ((old, False), (ks, True)):
            if obj is None:
                continue
            meta_ = obj.get("metadata") or {}
            who = (meta_.get("namespace") or "", meta_.get("name") or "")
            for ref in self._refs(obj):
                users = self._users.setdefault(ref, set())
                if add:
                    users.add(who)
                else:
                    users.discard(who)
                    if not users:
                        del self._users[ref]

    def users(self, ref: Hashable) -> set[tuple[str, str]]:
        return set(self._users.get(ref, set()))
