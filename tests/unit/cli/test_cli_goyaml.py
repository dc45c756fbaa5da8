"""The Go semantics create/export rely on besides YAML (see tests/unit/gocompat/test_yaml.py):
time.ParseDuration/Duration.String, pflag string slices, the shape flux's typed structs give exported
specs, and Go's url.Parse errors.
"""

from __future__ import annotations

import pytest

from gotk.cli import goflags
from gotk.cli.engines import gitsecret, manifest


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
