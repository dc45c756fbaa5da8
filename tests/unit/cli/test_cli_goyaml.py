"""The Go-compatible YAML emitter and Go flag semantics used by create/export: go-yaml v2's quoting
(double quotes for strings that would read back as another type, single quotes for indicators), its
natural key order, literal blocks, Go float formatting, time.ParseDuration/Duration.String, pflag
string slices, the shape flux's typed structs give exported specs, and Go's url.Parse errors.
"""

from __future__ import annotations

import pytest

from gotk.cli import goflags, goyaml
from gotk.cli.engines import gitsecret, manifest


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("main", "main"),
        ("", '""'),
        ("true", '"true"'),
        ("y", '"y"'),
        ("off", '"off"'),
        ("null", '"null"'),
        ("~", '"~"'),
        ("8080", '"8080"'),
        ("0x1F", '"0x1F"'),
        ("1e3", '"1e3"'),
        ("1.5", '"1.5"'),
        (".5", '".5"'),
        ("2026-01-02", '"2026-01-02"'),
        ("1:20", '"1:20"'),
        ("<<", '"<<"'),
        ("*", "'*'"),
        ("6.3.5", "6.3.5"),
        ("c88a2f41", "c88a2f41"),
        ("1234e56x", "1234e56x"),
        ("=", "="),
        ("[127.0.0.1]:22 ssh-ed25519 AAAA", "'[127.0.0.1]:22 ssh-ed25519 AAAA'"),
        ("a: b", "'a: b'"),
    ],
)
def test_scalar_quoting(value: str, expected: str) -> None:
    assert goyaml.dump({"k": value}) == f"k: {expected}\n"


def test_key_order_literal_blocks_and_sequences() -> None:
    doc = {
        "spec": {"sparseCheckout": ["a", "b"], "ignore": "x\ny", "a10": 1, "a9": 2, "caFile": 1, "ca.crt": 2},
        "apiVersion": "v1",
        "data": {"identity.pub": "ssh-ed25519 AAAA\n", "identity": "k"},
        "empty": {},
        "none": [],
    }
    assert goyaml.dump(doc) == (
        "apiVersion: v1\n"
        "data:\n"
        "  identity: k\n"
        "  identity.pub: |\n"
        "    ssh-ed25519 AAAA\n"
        "empty: {}\n"
        "none: []\n"
        "spec:\n"
        "  a9: 2\n"
        "  a10: 1\n"
        "  ca.crt: 2\n"
        "  caFile: 1\n"
        "  ignore: |-\n"
        "    x\n"
        "    y\n"
        "  sparseCheckout:\n"
        "  - a\n"
        "  - b\n"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.0, "1"), (0.5, "0.5"), (1e6, "1e+06"), (123456.0, "123456"), (1.5e-7, "1.5e-07"), (-2.25, "-2.25")],
)
def test_go_float(value: float, expected: str) -> None:
    assert goyaml.go_float(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1m", "1m0s"),
        ("1h", "1h0m0s"),
        ("90s", "1m30s"),
        ("1.5h", "1h30m0s"),
        ("0.5s", "500ms"),
        ("1us", "1µs"),
        ("2h45m", "2h45m0s"),
        ("0", "0s"),
        ("-1m", "-1m0s"),
        ("1.000000001s", "1.000000001s"),
    ],
)
def test_durations(text: str, expected: str) -> None:
    assert goflags.format_duration(goflags.parse_duration(text)) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("5", 'time: missing unit in duration "5"'),
        ("5x", 'time: unknown unit "x" in duration "5x"'),
        ("x", 'time: invalid duration "x"'),
        ("", 'time: invalid duration ""'),
        (".s", 'time: invalid duration ".s"'),
    ],
)
def test_duration_errors(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        goflags.parse_duration(text)


def test_string_slice_is_csv_and_accumulates() -> None:
    assert goflags.string_slice(["a,b", "c", '"x,y",z', ""]) == ["a", "b", "c", "x,y", "z"]


def test_exported_spec_has_go_shape() -> None:
    stored = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "ns", "uid": "u", "resourceVersion": "1", "labels": {}},
        "spec": {"interval": "5m", "timeout": "60s", "suspend": False, "force": False, "path": "", "prune": False,
                 "sourceRef": {"kind": "GitRepository", "name": "repo"}, "postBuild": {"substitute": {"a": ""}}},
        "status": {"observedGeneration": 1},
    }  # fmt: skip
    assert manifest.export(stored) == {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "ns"},
        "spec": {
            "interval": "5m0s",
            "timeout": "1m0s",
            "prune": False,
            "sourceRef": {"kind": "GitRepository", "name": "repo"},
            "postBuild": {"substitute": {"a": ""}},
        },
    }
    helm_repo = manifest.export({"kind": "HelmRepository", "metadata": {"name": "h"}, "spec": {"type": "oci"}})
    assert helm_repo["spec"] == {"type": "oci", "url": "", "interval": "0s"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/org/repo", ("https", "github.com")),
        ("ssh://git@github.com:2222/org/repo", ("ssh", "github.com:2222")),
        ("HTTP://host/x", ("http", "host")),
        ("ssh://[::1]:22/r", ("ssh", "[::1]:22")),
        ("/local/path", ("", "")),
    ],
)
def test_parse_url(url: str, expected: tuple[str, str]) -> None:
    assert gitsecret.parse_url(url) == expected


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("git@github.com:org/repo", "first path segment in URL cannot contain colon"),
        ("::", "missing protocol scheme"),
        ("https://host:abc/x", 'invalid port ":abc" after host'),
    ],
)
def test_parse_url_errors(url: str, error: str) -> None:
    with pytest.raises(ValueError, match=f'^parse "{url}": {error}$'):
        gitsecret.parse_url(url)
