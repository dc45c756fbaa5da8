"""gotk.helm.values: release and HelmChart names, valuesFrom composition (order, optional refs, targetPath
writes into maps and lists, escaped dots) and the values digest."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.helm import values as hv


def hr(name: str = "podinfo", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "apps"}, "spec": spec}


def test_names() -> None:
    assert hv.release_name(hr()) == "podinfo"
    assert hv.release_name(hr(targetNamespace="prod")) == "prod-podinfo"
    assert hv.release_name(hr(releaseName="custom", targetNamespace="prod")) == "custom"
    long = "a" * 30 + "-" + "b" * 30
    shortened = hv.release_name(hr(long))
    assert len(shortened) == 53 and shortened == f"{long[:40]}-{hashlib.sha256(long.encode()).hexdigest()[:12]}"
    assert hv.release_name(hr("x" * 53)) == "x" * 53
    assert hv.chart_object_name(hr()) == "apps-podinfo"


def test_compose_in_order() -> None:
    refs = [
        (
            hv.ValuesRef("ConfigMap", "base"),
            {"values.yaml": "replicas: 1\nimage: {repo: app, tag: v1}\nlist: [1, 2]\n"},
        ),
        (hv.ValuesRef("Secret", "prod", "prod.yaml"), {"prod.yaml": "replicas: 3\nimage: {tag: v2}\nlist: [9]\n"}),
        (hv.ValuesRef("Secret", "pw", "password", target_path="auth.password"), {"password": "s3cr3t,with=comma"}),
        (hv.ValuesRef("ConfigMap", "gone", optional=True), None),
        (hv.ValuesRef("ConfigMap", "nokey", "other.yaml", optional=True), {"values.yaml": "x: 1"}),
    ]
    out = hv.compose(refs, {"image": {"pullPolicy": "Always"}, "replicas": 5})
    assert out == {
        "replicas": 5,
        "image": {"repo": "app", "tag": "v2", "pullPolicy": "Always"},
        "list": [9],
        "auth": {"password": "s3cr3t,with=comma"},
    }


def test_compose_errors() -> None:
    with pytest.raises(hv.ValuesError, match=r"could not find ConfigMap 'x' key 'values\.yaml'"):
        hv.compose([(hv.ValuesRef("ConfigMap", "x"), None)], None)
    with pytest.raises(hv.ValuesError, match="missing key in Secret 'x' key 'v'"):
        hv.compose([(hv.ValuesRef("Secret", "x", "v"), {"other": "1"})], None)
    with pytest.raises(hv.ValuesError, match="not a YAML map"):
        hv.compose([(hv.ValuesRef("ConfigMap", "x"), {"values.yaml": "- a\n"})], None)
    with pytest.raises(hv.ValuesError, match="invalid YAML"):
        hv.compose([(hv.ValuesRef("ConfigMap", "x"), {"values.yaml": "a: [\n"})], None)


def test_target_paths() -> None:
    values: dict[str, Any] = {"a": {"keep": 1}}
    hv.set_path(values, "a.b[1].c", "x")
    hv.set_path(values, "a\\.dotted.key", "y")
    hv.set_path(values, "list[0][1]", "z")
    assert values == {"a": {"keep": 1, "b": [None, {"c": "x"}]}, "a.dotted": {"key": "y"}, "list": [[None, "z"]]}
    assert hv.split_path("a.b[0].c\\.d") == ["a", "b", 0, "c.d"]
    with pytest.raises(hv.ValuesError, match="empty key"):
        hv.split_path("a..b")
    replaced: dict[str, Any] = {"a": "scalar"}
    hv.set_path(replaced, "a.b", "x")  # a scalar on the way is replaced, as Helm's --set does
    assert replaced == {"a": {"b": "x"}}
    with pytest.raises(hv.ValuesError, match="non-list"):
        hv.set_path({"a": {"k": 1}}, "a[0]", "x")


def test_digest_is_canonical() -> None:
    assert hv.digest({"a": 1, "b": {"c": [1, 2]}}) == hv.digest({"b": {"c": [1, 2]}, "a": 1})
    assert hv.digest({"a": 1}) != hv.digest({"a": 2})
    assert hv.digest({}).startswith("sha256:")


_keys = st.text(st.characters(codec="ascii", categories=("Ll", "Lu", "Nd")), min_size=1, max_size=6)
_trees = st.recursive(
    st.integers() | st.text(max_size=5) | st.none(), lambda c: st.dictionaries(_keys, c, max_size=3), max_leaves=10
)


@given(st.dictionaries(_keys, _trees, max_size=4), st.dictionaries(_keys, _trees, max_size=4))
def test_merge_properties(a: dict[str, Any], b: dict[str, Any]) -> None:
    merged = hv.merge(a, b)
    assert hv.merge(merged, b) == merged  # idempotent on the right
    for key, value in b.items():
        if not isinstance(value, dict):
            assert merged[key] == value  # the override wins for scalars
    assert set(merged) == set(a) | set(b)
    assert hv.merge({}, b) == b and hv.merge(a, {}) == a
