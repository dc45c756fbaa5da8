"""gotk.ssa.diff, the pure half: the RFC 6902 patch from a live object to the dry-run result (applying it gives
the desired object back), Flux's drift summary lines, and the release objects with Helm's ownership metadata."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gotk.helm import drift
from gotk.ssa import diff

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text("ab/~", max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("ab/~", max_size=3), inner, max_size=3),
    max_leaves=12,
)


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def apply(doc: Any, ops: list[dict[str, Any]]) -> Any:
    doc = copy.deepcopy(doc)
    for op in ops:
        parts = [_unescape(p) for p in op["path"].split("/")[1:]]
        if not parts:
            doc = copy.deepcopy(op["value"])
            continue
        node = doc
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last: Any = int(parts[-1]) if isinstance(node, list) else parts[-1]
        if op["op"] == "remove":
            del node[last]
        else:
            node[last] = copy.deepcopy(op["value"])
    return doc


@given(JSON, JSON)
def test_the_patch_turns_live_into_desired(live: Any, desired: Any) -> None:
    assert apply(live, diff.json_patch(live, desired)) == desired


def test_counts_and_summary() -> None:
    live = {"spec": {"replicas": 3, "paused": True}, "metadata": {"name": "a"}}
    desired = {"spec": {"replicas": 1, "minReadySeconds": 5}, "metadata": {"name": "a"}}
    patch = tuple(diff.json_patch(live, desired))
    obj = {"kind": "Deployment", "metadata": {"name": "app", "namespace": "ns"}}
    drifts = [
        diff.Drift(obj, diff.UPDATE, patch),
        diff.Drift({"kind": "ClusterRole", "metadata": {"name": "r"}}, diff.CREATE),
        diff.Drift(obj, diff.NONE),
        diff.Drift({"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"}}, diff.EXCLUDE),
    ]
    assert diff.summary(drifts) == (
        "Deployment/ns/app changed (1 additions, 1 changes, 1 removals)\nClusterRole/r removed\nConfigMap/ns/c excluded"
    )
    assert [d.type for d in diff.changed(drifts)] == [diff.UPDATE, diff.CREATE]


def test_release_objects_carry_helms_ownership_metadata() -> None:
    manifest = "---\n# Source: a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: {x: y}\n---\n"
    (obj,) = drift.release_objects(manifest, "rel", "apps")
    assert obj["metadata"] == {
        "name": "c",
        "namespace": "apps",
        "labels": {"x": "y", "app.kubernetes.io/managed-by": "Helm"},
        "annotations": {"meta.helm.sh/release-name": "rel", "meta.helm.sh/release-namespace": "apps"},
    }
