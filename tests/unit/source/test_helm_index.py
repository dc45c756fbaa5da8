"""gotk.source.helm.index: loading an index, Helm's choice of a chart version (an exact version first, else
the highest satisfying the constraint, prereleases only when asked for), and chart URL resolution."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gotk.source.helm import index

INDEX = b"""
apiVersion: v1
entries:
  podinfo:
    - {name: podinfo, version: 6.0.0, urls: [podinfo-6.0.0.tgz]}
    - {name: podinfo, version: 6.2.0-rc.1, urls: [podinfo-6.2.0-rc.1.tgz]}
    - {name: podinfo, version: 6.1.0, urls: [https://cdn.example/podinfo-6.1.0.tgz]}
    - {name: podinfo, version: not-semver, urls: [x.tgz]}
    - {name: podinfo, version: 5.9.9, urls: [charts/podinfo-5.9.9.tgz]}
generated: "2026-11-27T00:00:00Z"
"""


def test_load_and_sort() -> None:
    loaded = index.load(INDEX)
    versions = [e["version"] for e in index.sorted_versions(loaded, "podinfo")]
    assert versions == ["6.2.0-rc.1", "6.1.0", "6.0.0", "5.9.9", "not-semver"]


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        (None, "6.1.0"),
        ("*", "6.1.0"),
        ("6.0.x", "6.0.0"),
        ("<6", "5.9.9"),
        (">=6.2.0-0", "6.2.0-rc.1"),
        ("not-semver", "not-semver"),
        ("6.0.0", "6.0.0"),
    ],
)
def test_select(constraint: str | None, expected: str) -> None:
    assert index.select(index.load(INDEX), "podinfo", constraint)["version"] == expected


def test_select_errors() -> None:
    loaded = index.load(INDEX)
    with pytest.raises(index.ChartNotFoundError, match="no chart name found"):
        index.select(loaded, "nginx", None)
    with pytest.raises(index.ChartNotFoundError, match=r"no 'podinfo' chart with version matching '9\.\*' found"):
        index.select(loaded, "podinfo", "9.*")
    with pytest.raises(index.ChartNotFoundError, match="invalid chart version constraint"):
        index.select(loaded, "podinfo", ">>1")


def test_chart_url() -> None:
    loaded = index.load(INDEX)
    entries = {e["version"]: e for e in loaded["entries"]["podinfo"]}
    repo = "https://charts.example/stable"
    assert index.chart_url(repo, entries["6.0.0"]) == "https://charts.example/stable/podinfo-6.0.0.tgz"
    assert index.chart_url(repo + "/", entries["5.9.9"]) == "https://charts.example/stable/charts/podinfo-5.9.9.tgz"
    assert index.chart_url(repo, entries["6.1.0"]) == "https://cdn.example/podinfo-6.1.0.tgz"
    with pytest.raises(index.ChartNotFoundError, match="no downloadable URLs"):
        index.chart_url(repo, {"name": "x", "version": "1.0.0"})


def test_same_host() -> None:
    assert index.same_host("https://a.example/charts", "https://a.example/x/y.tgz")
    assert not index.same_host("https://a.example/charts", "https://b.example/y.tgz")
    assert not index.same_host("https://a.example/charts", "http://a.example/y.tgz")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"entries: {}\n", "no API version specified"),
        (b"[1, 2]\n", "not a mapping"),
        (b"apiVersion: v1\nentries: [1]\n", "not a mapping of chart names"),
        (b"apiVersion: v1\nentries:\n  x: [1]\n", "entries of chart 'x'"),
        (b"apiVersion: v1\nentries: {a: [\n", "error unmarshaling index YAML"),
    ],
)
def test_load_refuses_what_is_not_an_index(data: bytes, message: str) -> None:
    with pytest.raises(index.IndexFormatError, match=message):
        index.load(data)


versions = st.lists(
    st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=15, unique=True
)


@given(versions)
def test_select_star_is_the_highest_version(triples: list[tuple[int, int, int]]) -> None:
    entries = [{"name": "c", "version": f"{a}.{b}.{c}", "urls": ["c.tgz"]} for a, b, c in triples]
    loaded = index.load(yaml.safe_dump({"apiVersion": "v1", "entries": {"c": entries}}).encode())
    best = max(triples)
    assert index.select(loaded, "c", "*")["version"] == "{}.{}.{}".format(*best)
    assert [tuple(map(int, e["version"].split("."))) for e in index.sorted_versions(loaded, "c")] == sorted(
        triples, reverse=True
    )
