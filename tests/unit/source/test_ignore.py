"""gotk.source.ignore: Flux's default exclusions, the go-git gitignore dialect (negation, anchoring,
dir-only, `**`, classes, bad patterns), recursive `.sourceignore` scoping, and how `spec.ignore`
and `.sourceignore` replace the defaults the way source-controller does.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gotk.source import ignore
from gotk.source.ignore import build_matcher, make_matcher, parse_pattern, read_patterns


def matcher_for(text: str) -> ignore.Matcher:
    return ignore.Matcher(read_patterns(text))


@pytest.mark.parametrize(
    ("path", "is_dir", "excluded"),
    [
        (".git", True, True),
        (".git/config", False, True),
        ("sub/.git/HEAD", False, True),
        (".gitignore", False, True),
        ("a/.gitmodules", False, True),
        (".gitattributes", False, True),
        ("logo.png", False, True),
        ("docs/img/a.JPG", False, False),  # Go's filepath.Match is case-sensitive
        ("docs/img/a.jpeg", False, True),
        ("release.tar.gz", False, True),
        ("bundle.zip", False, True),
        (".github", True, True),
        (".github/workflows/ci.yaml", False, True),
        (".circleci/config.yml", False, True),
        (".travis.yml", False, True),
        ("codeship-services.yml", False, True),
        ("codeship-steps.yml", False, True),
        ("cloudbuild.yaml", False, True),
        (".goreleaser.yml", False, True),
        ("deep/er/.sops.yaml", False, True),
        ("apps/.flux.yaml", False, True),
        ("deploy/app.yaml", False, False),
        ("kustomization.yaml", False, False),
        ("README.md", False, False),
        ("github/x", False, False),
    ],
)
def test_default_exclusions(path: str, is_dir: bool, excluded: bool) -> None:
    assert make_matcher([])(path, is_dir) is excluded


@pytest.mark.parametrize(
    ("patterns", "path", "is_dir", "excluded"),
    [
        # dir-only
        ("build/", "build", True, True),
        ("build/", "build", False, False),
        ("build/", "build/out.bin", False, True),
        ("build/", "src/build/out.bin", False, True),
        # a slash-free pattern matches at any depth and covers what is below
        ("tmp", "a/b/tmp", False, True),
        ("tmp", "tmp/x/y", False, True),
        # anchored and middle-slash patterns are relative to the root
        ("/tmp", "tmp", False, True),
        ("/tmp", "a/tmp", False, False),
        ("a/b", "a/b", False, True),
        ("a/b", "c/a/b", False, False),
        ("a/b", "a/b/c", False, True),
        # **
        ("**/x.yaml", "x.yaml", False, True),
        ("**/x.yaml", "a/b/x.yaml", False, True),
        ("a/**/z", "a/z", False, True),
        ("a/**/z", "a/b/c/z", False, True),
        ("a/**/z", "b/a/z", False, False),
        ("a/**", "a/b/c", False, True),
        ("a/**", "b", False, False),
        ("a**b/c", "axxb/c", False, False),  # '**' inside an element is never a match in go-git
        # wildcards and classes (Go filepath.Match syntax)
        ("*.md", "docs/x.md", False, True),
        ("?.txt", "a.txt", False, True),
        ("?.txt", "ab.txt", False, False),
        ("[abc].txt", "b.txt", False, True),
        ("[abc].txt", "d.txt", False, False),
        ("[a-c]x", "bx", False, True),
        ("[^a-c]x", "bx", False, False),
        ("[^a-c]x", "dx", False, True),
        ("[z-a]x", "ax", False, False),  # inverted range matches nothing
        (r"\*.txt", "*.txt", False, True),
        (r"\*.txt", "a.txt", False, False),
        ("[", "[", False, False),  # malformed: never matches
        ("[]a]", "a", False, False),
        ("a\\", "a", False, False),
        # trailing spaces are dropped unless escaped
        ("x   ", "x", False, True),
        ("x\\ ", "x ", False, True),
        # negation: last match wins
        ("*.yaml\n!keep.yaml", "keep.yaml", False, False),
        ("*.yaml\n!keep.yaml", "drop.yaml", False, True),
        ("!keep.yaml\n*.yaml", "keep.yaml", False, True),
        # Flux walks every path, so a negation re-includes inside an excluded dir
        ("docs/\n!docs/keep.md", "docs/keep.md", False, False),
        # comments and blank lines
        ("# *.yaml\n\n   \n", "a.yaml", False, False),
        ("a.yaml\r\nb.yaml\r\n", "b.yaml", False, True),
    ],
)
def test_pattern_dialect(patterns: str, path: str, is_dir: bool, excluded: bool) -> None:
    assert matcher_for(patterns)(path, is_dir) is excluded


def test_flux_doc_example_include_only_deploy() -> None:
    m = make_matcher(
        read_patterns("# exclude all\n/*\n# include deploy dir\n!/deploy\n/deploy/**/*.md\n/deploy/**/*.txt")
    )
    assert m("README.md", False)
    assert m("src", True)
    assert m("src/main.go", False)
    assert not m("deploy", True)
    assert not m("deploy/app/deployment.yaml", False)
    assert m("deploy/app/notes.md", False)
    assert m("deploy/notes.txt", False)
    assert m(".git/config", False)


def test_pattern_fields() -> None:
    p = parse_pattern("!/a/b/", ("sub",))
    assert (p.inclusion, p.dir_only, p.is_glob, p.parts, p.domain) == (True, True, True, ("", "a", "b"), ("sub",))
    assert p.match(["sub", "a", "b"], True) is ignore.Match.INCLUDE
    assert p.match(["a", "b"], True) is ignore.Match.NONE
    assert p.match(["sub"], True) is ignore.Match.NONE


def write(root: Path, rel: str, text: str = "") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_sourceignore_patterns_are_scoped_to_their_directory(tmp_path: Path) -> None:
    write(tmp_path, ".sourceignore", "/top.txt\n")
    write(tmp_path, "apps/.sourceignore", "*.txt\n/local\n")
    write(tmp_path, "apps/deep/.sourceignore", "!keep.txt\n")
    m = build_matcher(tmp_path, None)
    assert m("top.txt", False)
    assert not m("other/top.txt", False)
    assert not m("notes.txt", False)
    assert m("apps/notes.txt", False)
    assert m("apps/x/y/notes.txt", False)
    assert m("apps/local", True)
    assert not m("local", True)
    assert not m("apps/deep/keep.txt", False)  # the deeper file has priority
    assert m("apps/deep/other.txt", False)


def test_sourceignore_not_read_inside_git_or_through_symlinks(tmp_path: Path) -> None:
    write(tmp_path, ".git/.sourceignore", "*.yaml\n")
    write(tmp_path, "outside.txt", "*.yaml\n")
    (tmp_path / "repo").mkdir()
    os.symlink(tmp_path / "outside.txt", tmp_path / "repo" / ".sourceignore")
    assert ignore.load_ignore_patterns(tmp_path) == []


def test_oversized_sourceignore_is_refused(tmp_path: Path) -> None:
    write(tmp_path, ".sourceignore", "x\n" * (ignore.MAX_IGNORE_FILE_SIZE // 2 + 1))
    with pytest.raises(OSError, match="larger than"):
        build_matcher(tmp_path, None)


def test_spec_ignore_replaces_defaults_but_not_vcs(tmp_path: Path) -> None:
    m = build_matcher(tmp_path, "*.md\n")
    assert m("README.md", False)
    assert not m("logo.png", False)
    assert not m(".github/workflows/ci.yaml", False)
    assert m(".git/config", False)
    assert m(".gitignore", False)


def test_sourceignore_patterns_also_replace_defaults(tmp_path: Path) -> None:
    # source-controller builds one list from .sourceignore files + spec.ignore; any entry in it
    # drops the non-VCS defaults (pkg/artifact/storage SourceIgnoreFilter).
    write(tmp_path, ".sourceignore", "*.md\n")
    m = build_matcher(tmp_path, None)
    assert m("README.md", False)
    assert not m("logo.png", False)
    assert m(".git/HEAD", False)


def test_empty_spec_ignore_keeps_defaults(tmp_path: Path) -> None:
    write(tmp_path, ".sourceignore", "# only a comment\n")
    m = build_matcher(tmp_path, "\n# nothing\n")
    assert m("logo.png", False)


def test_spec_ignore_overrides_sourceignore(tmp_path: Path) -> None:
    write(tmp_path, ".sourceignore", "*.yaml\n")
    m = build_matcher(tmp_path, "!important.yaml\n")
    assert m("other.yaml", False)
    assert not m("important.yaml", False)
    assert not build_matcher(tmp_path, "!.git/\n")(".git/config", False)


def test_bucket_flavour_has_no_defaults(tmp_path: Path) -> None:
    m = build_matcher(tmp_path, "*.md", defaults=False)
    assert not m(".git/config", False)
    assert not m("logo.png", False)
    assert m("x.md", False)


# --- property: pruning an excluded directory is safe when no pattern re-includes ---------------

_elements = st.sampled_from(["a", "b", "ab", "x.yaml", ".git", "c"])
_pattern_text = st.lists(
    st.sampled_from(["a", "b", "*", "?", "a*", "[ab]", "**", "x.yaml", ".git", "c"]), min_size=1, max_size=3
).map("/".join)
_patterns = st.lists(
    st.tuples(st.booleans(), st.booleans(), _pattern_text).map(
        lambda t: ("/" if t[0] else "") + t[2] + ("/" if t[1] else "")
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(patterns=_patterns, path=st.lists(_elements, min_size=2, max_size=5), cut=st.integers(1, 4))
def test_excluded_directory_excludes_its_contents(patterns: list[str], path: list[str], cut: int) -> None:
    m = ignore.Matcher([parse_pattern(p) for p in patterns])
    assert m.can_prune
    prefix = path[: min(cut, len(path) - 1)]
    if m.match(prefix, True):
        assert m.match(path, False)
        assert m.match(path, True)
