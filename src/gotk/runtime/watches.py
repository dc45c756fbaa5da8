"""One watch that every consumer of artifacts needs: a source has a new artifact, so enqueue its users.

`on_new_artifact(kind, users, enqueue)` is an informer handler for the sources of one kind: when an object's
`status.artifact` changes revision or digest, every object that `users` (a `RefIndex` keyed by
`(kind, namespace, name)`) says refers to it is enqueued. Kustomizations on their sources, HelmCharts on
theirs, HelmReleases on their charts use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gotk.runtime.informer import Key
from gotk.runtime.refindex import RefIndex

Obj = dict[str, Any]
Handler = Callable[[Obj | None, Obj | None], None]


def artifact_of(obj: Obj | None) -> Obj:
    """`status.artifact` of a source, or an empty dict."""
    artifact = ((obj or {}).get("status") or {}).get("artifact")
    return artifact if isinstance(artifact, dict) else {}


def artifact_changed(old: Obj | None, new: Obj | None) -> bool:
    """Whether the artifact's revision or digest differs between two versions of a source."""
    a, b = artifact_of(old), artifact_of(new)
    return (a.get("revision"), a.get("digest")) != (b.get("revision"), b.get("digest"))


def on_new_artifact(
    kind: str,
    users: RefIndex,
    enqueue: Callable[[Key], None],
    *,
    also: Callable[[Obj], Iterable[Key]] | None = None,
) -> Handler:
    """A handler for sources of `kind`: a new artifact enqueues its users (and whatever `also(source)` names)."""

    def handler(old: Obj | None, new: Obj | None) -> None:
        if new is None or not artifact_changed(old, new):
            return
        meta = new.get("metadata") or {}
        keys = set(users.users((kind, meta.get("namespace") or "", meta.get("name") or "")))
        if also is not None:
            keys.update(also(new))
        for key in sorted(keys):
            enqueue(key)

    return handler
