"""gotk.source.generator.pattern against the pure scenarios of Flux's source-watcher pathPattern tests
(artifactgenerator_pathpattern_test.go): which directories a `spec.pathPattern` matches, the artifacts rendered
for them (names and labels from lowercased captures, copy paths from the captures as found) and Flux's checks.
A few extra cases follow Flux's implementation (artifactgenerator_pathpattern.go) where its tests are silent.

The directories are walked here the way Flux's filepath.WalkDir does (lexical, depth first, only directories).
Each test asserts Flux's result.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.source.generator.pattern import ArtifactRequest, PatternError, expand, render


def walk_dirs(root: Path) -> list[str]:
    """The directories under `root` as slash paths, in filepath.WalkDir's order, `root` itself left out."""
    out: list[str] = []

    def visit(directory: Path, rel: str) -> None:
        for name in sorted(os.listdir(directory)):
            path = directory / name
            if path.is_dir() and not path.is_symlink():
                child = f"{rel}/{name}" if rel else name
                out.append(child)
                visit(path, child)

    visit(root, "")
    return out


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Flux's test tree: two envs of auth, payments without envs, and apps/ignore/envs/dev as a file."""
    root = tmp_path / "repo"
    for d in ("apps/auth/envs/dev", "apps/auth/envs/prod", "apps/payments"):
        (root / d).mkdir(parents=True)
    (root / "apps/ignore/envs").mkdir(parents=True)
    (root / "apps/ignore/envs/dev").write_text("test")
    return root


def tree(tmp_path: Path, *dirs: str) -> list[str]:
    root = tmp_path / "repo"
    for d in dirs:
        (root / d).mkdir(parents=True, exist_ok=True)
    return walk_dirs(root)


def expand_in(root: Path, path_pattern: str, artifacts: Sequence[Mapping[str, Any]]) -> list[ArtifactRequest]:
    return expand(path_pattern, artifacts, walk_dirs(root))


def pattern_error(path_pattern: str, artifacts: Sequence[Mapping[str, Any]], directories: Sequence[str]) -> str:
    with pytest.raises(PatternError) as info:
        expand(path_pattern, artifacts, directories)
    assert info.value.terminal
    return str(info.value)


def test_walk_order(repo: Path) -> None:
    assert walk_dirs(repo) == [
        "apps",
        "apps/auth",
        "apps/auth/envs",
        "apps/auth/envs/dev",
        "apps/auth/envs/prod",
        "apps/ignore",
        "apps/ignore/envs",
        "apps/payments",
    ]


# -- TestBuildArtifactRequests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path_pattern", ["invalid-no-at-sign", "@repo", "repo/apps/{app}"])
def test_invalid_path_pattern_format(repo: Path, path_pattern: str) -> None:
    assert "invalid pathPattern format" in pattern_error(path_pattern, [], walk_dirs(repo))


@pytest.mark.parametrize("capture", ["_app", "app_", "a" * 64])
def test_invalid_capture_label_key(repo: Path, capture: str) -> None:
    message = pattern_error(f"@repo/apps/{{{capture}}}", [{"name": f"x-{{{capture}}}"}], walk_dirs(repo))
    assert "pathPattern" in message
    assert "capture variable" in message
    assert "not a valid Kubernetes label key" in message


def test_valid_capture_label_keys(repo: Path) -> None:
    reqs = expand_in(repo, "@repo/apps/{App_1}", [{"name": "x-{App_1}"}])
    assert [r.labels for r in reqs] == [{"App_1": "auth"}, {"App_1": "ignore"}, {"App_1": "payments"}]


@pytest.mark.parametrize(
    ("path_pattern", "wanted"),
    [
        ("@repo/apps/{}", "empty capture variable"),
        ("@repo/apps/{app-name}", "valid capture name"),
        ("@repo/apps/{1app}", "valid capture name"),
        ("@repo/apps/{app", "missing closing brace"),
        ("@repo/apps/app}", "missing opening brace"),
        ("@repo/apps/{app}/envs/{app}", "duplicate capture variable"),
    ],
    ids=["empty", "unsupported name", "leading digit", "no closing brace", "no opening brace", "duplicate"],
)
def test_invalid_capture_syntax(repo: Path, path_pattern: str, wanted: str) -> None:
    message = pattern_error(path_pattern, [], walk_dirs(repo))
    assert "pathPattern" in message
    assert path_pattern in message
    assert wanted in message


def test_single_capture_pattern(repo: Path) -> None:
    reqs = expand_in(repo, "@repo/apps/{app}", [{"name": "app-{app}", "copy": [{"from": "apps/{app}", "to": "."}]}])
    assert len(reqs) == 3  # auth, ignore and payments
    assert sorted(r.name for r in reqs) == ["app-auth", "app-ignore", "app-payments"]
    auth = next(r for r in reqs if r.name == "app-auth")
    assert auth.labels == {"app": "auth"}
    assert auth.spec["copy"][0]["from"] == "apps/auth"
    assert auth.spec["copy"][0]["to"] == "."


def test_unknown_capture_placeholder(repo: Path) -> None:
    message = pattern_error("@repo/apps/{app}", [{"name": "{missing}"}], walk_dirs(repo))
    assert "missing" in message
    assert "is not defined by pathPattern" in message


def test_unknown_capture_placeholder_message(repo: Path) -> None:
    message = pattern_error("@repo/apps/{app}", [{"name": "{missing}"}], walk_dirs(repo))
    assert 'capture variable "missing" is not defined by pathPattern' in message


def test_preserves_exclude_and_strategy(repo: Path) -> None:
    spec: dict[str, Any] = {
        "name": "app-{app}",
        "copy": [{"from": "apps/{app}", "to": ".", "exclude": ["*.md", "tests/"], "strategy": "Merge"}],
    }
    reqs = expand_in(repo, "@repo/apps/{app}", [spec])
    assert len(reqs) == 3
    for r in reqs:
        assert r.spec["copy"][0]["exclude"] == ["*.md", "tests/"]
        assert r.spec["copy"][0]["strategy"] == "Merge"
    assert spec["copy"][0]["from"] == "apps/{app}"  # the spec itself is left alone


def test_skips_files_that_match_pattern_exactly(repo: Path) -> None:
    reqs = expand_in(repo, "@repo/apps/{app}/envs/{env}", [{"name": "{app}-{env}"}])
    assert len(reqs) == 2  # apps/ignore/envs/dev is a file
    assert sorted(r.name for r in reqs) == ["auth-dev", "auth-prod"]
    for r in reqs:
        assert r.labels["app"] == "auth"
        assert r.labels["env"] in ("dev", "prod")


def test_uppercase_directories_are_lowercased(tmp_path: Path) -> None:
    dirs = tree(tmp_path, "apps/Auth/envs/Dev", "apps/Payments/envs/Prod")
    spec = {
        "name": "{app}-{env}",
        "copy": [{"from": "@repo/apps/{app}/envs/{env}/**", "to": "@artifact/{app}/{env}/"}],
    }
    reqs = expand("@repo/apps/{app}/envs/{env}", [spec], dirs)
    assert sorted(r.name for r in reqs) == ["auth-dev", "payments-prod"]
    by_name = {r.name: r for r in reqs}
    for r in reqs:
        assert all(v == v.lower() for v in r.labels.values())
    assert by_name["auth-dev"].labels == {"app": "auth", "env": "dev"}
    assert by_name["auth-dev"].spec["copy"][0]["from"] == "@repo/apps/Auth/envs/Dev/**"
    assert by_name["auth-dev"].spec["copy"][0]["to"] == "@artifact/Auth/Dev/"
    assert by_name["payments-prod"].spec["copy"][0]["from"] == "@repo/apps/Payments/envs/Prod/**"
    assert by_name["payments-prod"].spec["copy"][0]["to"] == "@artifact/Payments/Prod/"


@pytest.mark.parametrize("name", [".hidden", "my app", "a" * 64], ids=["leading dot", "space", "too long"])
def test_invalid_label_value(tmp_path: Path, name: str) -> None:
    message = pattern_error("@repo/apps/{app}", [{"name": "app-{app}"}], tree(tmp_path, f"apps/{name}"))
    assert "pathPattern" in message
    assert "not a valid Kubernetes label value" in message


def test_longest_label_value(tmp_path: Path) -> None:
    reqs = expand("@repo/apps/{app}", [{"name": "app-{app}"}], tree(tmp_path, "apps/" + "A" * 63))
    assert reqs[0].labels == {"app": "a" * 63}


def test_invalid_rendered_dns_name(tmp_path: Path) -> None:
    message = pattern_error("@repo/apps/{app}", [{"name": "{app}..invalid"}], tree(tmp_path, "apps/auth"))
    assert "pathPattern" in message
    assert "not a valid Kubernetes object name" in message


def test_duplicate_names_after_lowercasing(tmp_path: Path) -> None:
    dirs = tree(tmp_path, "apps/Auth", "apps/auth")
    message = pattern_error("@repo/apps/{app}", [{"name": "app-{app}"}], dirs)
    assert "pathPattern" in message
    assert "both resolve to artifact name" in message
    assert "apps/Auth" in message
    assert "apps/auth" in message


# -- beyond Flux's tests, from artifactgenerator_pathpattern.go ----------------------------------------------------


def test_no_matching_directory_gives_no_artifacts(repo: Path) -> None:
    assert expand_in(repo, "@repo/clusters/{cluster}", [{"name": "c-{cluster}"}]) == []


def test_several_artifacts_per_match_keep_other_fields(repo: Path) -> None:
    specs: list[dict[str, Any]] = [
        {"name": "{app}-manifests", "revision": "@repo", "copy": [{"from": "@repo/apps/{app}/**", "to": "@artifact/"}]},
        {"name": "{app}-values", "originRevision": "@repo", "copy": []},
    ]
    reqs = expand_in(repo, "@repo/apps/{app}", specs)
    # directory by directory in walk order, and the artifacts in spec order for each
    assert [r.name for r in reqs] == [
        f"{a}-{k}" for a in ("auth", "ignore", "payments") for k in ("manifests", "values")
    ]
    assert reqs[0].spec["revision"] == "@repo"
    assert reqs[0].spec["copy"] == [{"from": "@repo/apps/auth/**", "to": "@artifact/"}]
    assert reqs[1].spec["originRevision"] == "@repo"


def test_same_rendered_name_for_two_directories(repo: Path) -> None:
    message = pattern_error("@repo/apps/{app}/envs/{env}", [{"name": "{app}"}], walk_dirs(repo))
    assert "both resolve to artifact name" in message


def test_render_errors_are_wrapped_with_the_match(repo: Path) -> None:
    message = pattern_error("@repo/apps/{app}", [{"name": "x", "copy": [{"from": "{nope}", "to": "."}]}], ["apps/a"])
    assert "failed to render artifact x for match apps/a" in message
    assert "is not defined by pathPattern" in message


@pytest.mark.parametrize(
    ("template", "wanted"),
    [
        ("{a", "capture starting at offset 0 is missing closing brace"),
        ("x}", "capture ending at offset 1 is missing opening brace"),
        ("{b}", "is not defined by pathPattern"),
    ],
)
def test_render_errors(template: str, wanted: str) -> None:
    with pytest.raises(PatternError, match=re.escape(wanted)):
        render(template, {"a": "1"})


@pytest.mark.parametrize(
    ("template", "wanted"),
    [("{}", "empty capture variable"), ("{a-b}", "must be a valid capture name matching [A-Za-z_][A-Za-z0-9_]*")],
)
def test_render_capture_name_errors(template: str, wanted: str) -> None:
    with pytest.raises(PatternError, match=re.escape(wanted)):
        render(template, {"a": "1"})


def test_messages_quote_like_go(repo: Path) -> None:
    assert pattern_error("@repo/apps/{}", [], walk_dirs(repo)) == 'pathPattern "@repo/apps/{}": empty capture variable'


def test_trailing_newline_in_directory_name_is_no_label_value() -> None:
    message = pattern_error("@repo/apps/{app}", [{"name": "app-{app}"}], ["apps/auth\n"])
    assert "not a valid Kubernetes label value" in message


def test_trailing_newline_in_capture_name_is_invalid() -> None:
    message = pattern_error("@repo/apps/{app\n}", [], ["apps/auth"])
    assert "valid capture name" in message


_literal = st.text(alphabet="ab-./@", min_size=0, max_size=4)
_names = st.sampled_from(["app", "env", "_x", "Region1"])


@given(parts=st.lists(st.tuples(_literal, _names), max_size=4), tail=_literal, values=st.data())
def test_render_substitutes_every_placeholder(parts: list[tuple[str, str]], tail: str, values: st.DataObject) -> None:
    mapping = {n: values.draw(st.text(alphabet="xyZ-9", max_size=3), label=n) for n in ("app", "env", "_x", "Region1")}
    template = "".join(f"{lit}{{{name}}}" for lit, name in parts) + tail
    assert render(template, mapping) == "".join(lit + mapping[name] for lit, name in parts) + tail


@given(name=st.text(alphabet="aAbB0-._", min_size=1, max_size=8))
def test_labels_are_lowercased_captures(name: str) -> None:
    lowered = name.lower()
    valid = len(lowered) <= 63 and re.fullmatch(r"(([a-z0-9][-a-z0-9_.]*)?[a-z0-9])?", lowered) is not None
    if not valid:
        with pytest.raises(PatternError, match="not a valid Kubernetes label value"):
            expand("@repo/apps/{app}", [{"name": "{app}"}], [f"apps/{name}"])
        return
    try:
        reqs = expand(
            "@repo/apps/{app}", [{"name": "n-{app}", "copy": [{"from": "{app}", "to": "."}]}], [f"apps/{name}"]
        )
    except PatternError as exc:  # a name like 'a_b' is a label value but no object name
        assert "not a valid Kubernetes object name" in str(exc)
        assert "_" in lowered or ".." in lowered or "-." in lowered or ".-" in lowered
        return
    assert reqs[0].labels == {"app": lowered}
    assert reqs[0].name == f"n-{lowered}"
    assert reqs[0].spec["copy"][0]["from"] == name
