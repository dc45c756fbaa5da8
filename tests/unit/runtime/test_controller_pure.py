"""Pure parts of the controller loop: the reconcile predicate and the status merge-patch diff."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gotk.api import meta
from gotk.runtime.controller import merge_diff, needs_reconcile


def obj(gen: int = 1, requested: str | None = None, deleting: bool = False, rv: str = "1") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "a", "namespace": "ns", "generation": gen, "resourceVersion": rv}
    if requested:
        metadata["annotations"] = {meta.RECONCILE_REQUEST_ANNOTATION: requested}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": metadata, "status": {}}


def test_predicate() -> None:
    assert needs_reconcile(None, obj())
    assert not needs_reconcile(obj(), None)
    assert not needs_reconcile(obj(rv="1"), obj(rv="2")), "status-only change"
    assert needs_reconcile(obj(gen=1), obj(gen=2))
    assert needs_reconcile(obj(), obj(requested="t1"))
    assert not needs_reconcile(obj(requested="t1"), obj(requested="t1", rv="3"))
    assert needs_reconcile(obj(), obj(deleting=True))


def apply_merge(target: Any, patch: Any) -> Any:
    """RFC 7386 merge-patch semantics, to check the diff against."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = apply_merge(result.get(k), v)
    return result


json_leaf = st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=3))
json_obj = st.recursive(
    st.dictionaries(st.text(min_size=1, max_size=4), json_leaf, max_size=4),
    lambda children: st.dictionaries(st.text(min_size=1, max_size=4), children | json_leaf, max_size=4),
    max_leaves=12,
)


@given(json_obj, json_obj)
def test_merge_diff_turns_before_into_after(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert apply_merge(before, merge_diff(before, after)) == after


def test_merge_diff_empty_when_equal() -> None:
    status = {"conditions": [{"type": "Ready"}], "artifact": {"revision": "x"}}
    assert merge_diff(status, dict(status)) == {}
