"""Pure ref resolution (gotk.runtime.git.refs): Flux's precedence commit > name > semver > tag >
branch (default master), revision strings, peeled annotated tags, semver selection and the
errors for refs the remote does not have.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.runtime.git import refs
from gotk.runtime.git.errors import GitError, RefNotFoundError

A, B, C, D, E, T = ("a" * 40, "b" * 40, "c" * 40, "d" * 40, "e" * 40, "f" * 40)

REMOTE = {
    "HEAD": A,
    "refs/heads/main": A,
    "refs/heads/master": B,
    "refs/heads/feature/x": C,
    "refs/tags/v1.0.0": D,
    "refs/tags/v1.1.0": T,  # annotated: the tag object ...
    "refs/tags/v1.1.0^{}": E,  # ... and the commit it points at
    "refs/tags/v2.0.0-rc.1": C,
    "refs/tags/latest": B,
    "refs/pull/1/head": C,
}

FIELDS = ("commit", "name", "semver", "tag", "branch")
VALUES = {"commit": A, "name": "refs/pull/1/head", "semver": ">=1.0.0 <2", "tag": "v1.0.0", "branch": "main"}


@given(st.sets(st.sampled_from(FIELDS)))
def test_precedence_is_commit_name_semver_tag_branch(fields: set[str]) -> None:
    spec = refs.RefSpec(**{f: VALUES[f] for f in fields})
    expected = next((f for f in FIELDS if f in fields), "branch")
    resolution = refs.resolve(spec, REMOTE)
    assert resolution.kind.value == expected
    if not fields:
        assert resolution.revision == f"master@sha1:{B}"


@pytest.mark.parametrize(
    ("spec", "revision", "refname", "sha", "tag_sha"),
    [
        (refs.RefSpec(), f"master@sha1:{B}", "refs/heads/master", B, None),
        (refs.RefSpec(branch="main"), f"main@sha1:{A}", "refs/heads/main", A, None),
        (refs.RefSpec(branch="feature/x"), f"feature/x@sha1:{C}", "refs/heads/feature/x", C, None),
        (refs.RefSpec(tag="v1.0.0"), f"v1.0.0@sha1:{D}", "refs/tags/v1.0.0", D, None),
        (refs.RefSpec(tag="v1.1.0"), f"v1.1.0@sha1:{E}", "refs/tags/v1.1.0", E, T),
        (refs.RefSpec(semver="1.x"), f"v1.1.0@sha1:{E}", "refs/tags/v1.1.0", E, T),
        (refs.RefSpec(semver=">=2.0.0-0"), f"v2.0.0-rc.1@sha1:{C}", "refs/tags/v2.0.0-rc.1", C, None),
        (refs.RefSpec(name="refs/pull/1/head"), f"refs/pull/1/head@sha1:{C}", "refs/pull/1/head", C, None),
        (refs.RefSpec(name="refs/heads/main"), f"refs/heads/main@sha1:{A}", "refs/heads/main", A, None),
        (refs.RefSpec(name="refs/tags/v1.1.0"), f"refs/tags/v1.1.0@sha1:{E}", "refs/tags/v1.1.0", E, T),
        (refs.RefSpec(commit=D), f"sha1:{D}", None, D, None),
        (refs.RefSpec(commit=D, branch="main"), f"main@sha1:{D}", "refs/heads/main", D, None),
    ],
)
def test_resolution_and_revision_format(
    spec: refs.RefSpec, revision: str, refname: str | None, sha: str, tag_sha: str | None
) -> None:
    resolution = refs.resolve(spec, REMOTE)
    assert (resolution.revision, resolution.refname, resolution.sha, resolution.tag_sha) == (
        revision,
        refname,
        sha,
        tag_sha,
    )
    assert refs.sha_of_revision(resolution.revision) == sha


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (refs.RefSpec(branch="nope"), 'couldn\'t find remote ref "refs/heads/nope"'),
        (refs.RefSpec(tag="v9"), 'couldn\'t find remote ref "refs/tags/v9"'),
        (refs.RefSpec(semver=">=3"), "no match found for semver: >=3"),
        (refs.RefSpec(name="refs/pull/2/head"), "unable to resolve ref 'refs/pull/2/head' to a specific commit"),
        (refs.RefSpec(commit=A, branch="gone"), 'couldn\'t find remote ref "refs/heads/gone"'),
    ],
)
def test_unknown_refs_raise_naming_the_ref(spec: refs.RefSpec, message: str) -> None:
    with pytest.raises(RefNotFoundError) as err:
        refs.resolve(spec, REMOTE)
    assert str(err.value) == message
    assert err.value.ref in message


def test_bad_semver_range_and_bad_name_are_errors() -> None:
    with pytest.raises(GitError, match="semver parse error"):
        refs.resolve(refs.RefSpec(semver="not a range!"), REMOTE)
    with pytest.raises(GitError, match="cannot begin or end with a slash"):
        refs.resolve(refs.RefSpec(name="refs/heads/"), REMOTE)


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("*", "v1.2.0"),
        (">=1.0.0", "v1.2.0"),
        ("<1.2.0", "1.1.9"),
        ("~1.1", "1.1.9"),
        ("^0.9", "0.9.1"),
        (">=2.0.0", None),
        (">=1.3.0-0", "v1.3.0-beta.1"),
    ],
)
def test_select_semver(constraint: str, expected: str | None) -> None:
    tags = ["v1.2.0", "1.1.9", "0.9.1", "v1.3.0-beta.1", "latest", "v1.2", "release-1.5.0"]
    assert refs.select_semver(tags, constraint) == expected


def test_select_semver_is_independent_of_tag_order() -> None:
    tags = ["v1.2.3+b", "v1.2.3+a", "1.2.3"]
    assert {refs.select_semver(order, "1.2.3") for order in (tags, tags[::-1], sorted(tags))} == {"v1.2.3+b"}


def test_refspec_from_spec() -> None:
    assert refs.RefSpec.from_spec(None) == refs.RefSpec()
    spec = refs.RefSpec.from_spec({"branch": "main", "semver": None, "commit": ""})
    assert spec == refs.RefSpec(branch="main") and spec.kind is refs.Kind.BRANCH


@given(st.sampled_from(["main", "feature/x/y", "v1.0.0"]), st.text("0123456789abcdef", min_size=40, max_size=40))
def test_revision_round_trips_the_sha(label: str, sha: str) -> None:
    for kind, refname in ((refs.Kind.BRANCH, f"refs/heads/{label}"), (refs.Kind.TAG, f"refs/tags/{label}")):
        rev = refs.revision(kind, refname, sha)
        assert rev == f"{label}@sha1:{sha}" and refs.sha_of_revision(rev) == sha
    assert refs.sha_of_revision(refs.revision(refs.Kind.COMMIT, None, sha)) == sha
