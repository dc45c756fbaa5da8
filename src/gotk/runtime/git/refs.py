"""Pure resolution of a GitRepository `spec.ref` against a remote's advertised refs.

Precedence is commit > name > semver > tag > branch, with branch `master` when nothing is set.
The revision string follows Flux: `<branch>@sha1:<sha>`, `<tag>@sha1:<sha>`, the full ref for
`name` (`refs/pull/1/head@sha1:<sha>`), and `sha1:<sha>` for a commit without a branch.
Used by `gotk.runtime.git.fetcher` and by the reconciler's no-change check.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gotk.runtime.git.errors import GitError, RefNotFoundError

__all__ = [
    "DEFAULT_BRANCH",
    "Kind",
    "RefSpec",
    "Resolution",
    "resolve",
    "revision",
    "select_semver",
    "sha_of_revision",
]

DEFAULT_BRANCH = "master"
PEELED = "^{}"


class Kind(enum.Enum):
    """Which field of `spec.ref` decides the checkout."""

    COMMIT = "commit"
    NAME = "name"
    SEMVER = "semver"
    TAG = "tag"
    BRANCH = "branch"


@dataclass(frozen=True)
class RefSpec:
    """A GitRepository `spec.ref`; empty strings count as unset."""

    branch: str = ""
    tag: str = ""
    semver: str = ""
    name: str = ""
    commit: str = ""

    @classmethod
    def from_spec(cls, ref: Mapping[str, Any] | None) -> RefSpec:
        ref = ref or {}
        return cls(**{f: str(ref.get(f) or "") for f in ("branch", "tag", "semver", "name", "commit")})

    @property
    def kind(self) -> Kind:
        for kind in Kind:
            if getattr(self, kind.value):
                return kind
        return Kind.BRANCH

    @property
    def effective_branch(self) -> str:
        return self.branch or DEFAULT_BRANCH


@dataclass(frozen=True)
class Resolution:
    """Where a RefSpec points: the full ref to fetch (None for a bare commit), the commit sha,
    the annotated tag object's sha if any, and Flux's revision string."""

    kind: Kind
    refname: str | None
    sha: str
    revision: str
    tag_sha: str | None = None

    @property
    def label(self) -> str:
        """The human part of the revision (`main`, `v1.2.0`, `refs/pull/1/head`, or '')."""
        return self.revision.rpartition("@")[0]


def revision(kind: Kind, refname: str | None, sha: str) -> str:
    """Flux's revision string for `sha` reached through `refname` with strategy `kind`."""
    if refname is None:
        return f"sha1:{sha}"
    if kind is Kind.NAME:
        return f"{refname}@sha1:{sha}"
    parts = refname.split("/", 2)
    return f"{parts[2] if len(parts) == 3 else refname}@sha1:{sha}"


def sha_of_revision(rev: str) -> str:
    """The commit sha in a revision string (`main@sha1:abc` -> `abc`; `abc` stays `abc`)."""
    return rev.rpartition("sha1:")[2] if "sha1:" in rev else rev.rpartition("@")[2]


def _peeled(refs: Mapping[str, str], refname: str) -> tuple[str | None, str | None]:
    """(commit sha, annotated tag object sha) for `refname`, peeling `^{}` when advertised."""
    if refname not in refs:
        return None, None
    if refname + PEELED in refs:
        return refs[refname + PEELED], refs[refname]
    return refs[refname], None


def select_semver(tags: Iterable[str], constraint: str) -> str | None:
    """The tag with the highest version matching the Masterminds `constraint`, as Flux reads tags
    (`[v]MAJOR.MINOR.PATCH[-PRE][+META]`). Ties (versions equal up to build metadata) go to the
    lexically greatest tag name: ls-remote carries no commit dates, which Flux uses instead."""
    from gotk.runtime import semver  # lazily: the semver engine is only needed for this strategy

    try:
        rule = semver.Constraint(constraint)
    except semver.SemverError as exc:
        raise GitError(f"semver parse error: {exc}") from None
    return semver.latest(sorted(set(tags), reverse=True), rule)


def tag_names(refs: Mapping[str, str]) -> list[str]:
    """Tag names advertised by the remote (without `refs/tags/` and peeled duplicates)."""
    return [r.removeprefix("refs/tags/") for r in refs if r.startswith("refs/tags/") and not r.endswith(PEELED)]


def resolve(spec: RefSpec, refs: Mapping[str, str]) -> Resolution:
    """Resolve `spec` against the remote's refs (name -> sha, with `^{}` peeled entries).

    A commit is taken as given (it is checked only once fetched), but its branch must exist.
    Raise `RefNotFoundError` naming what is missing, `GitError` for a bad semver range.
    """
    kind = spec.kind
    if kind is Kind.COMMIT:
        refname = f"refs/heads/{spec.branch}" if spec.branch else None
        if refname is not None and refname not in refs:
            raise RefNotFoundError(f'couldn\'t find remote ref "{refname}"', ref=refname)
        return Resolution(kind, refname, spec.commit, revision(kind, refname, spec.commit))
    if kind is Kind.NAME:
        refname = spec.name
        if refname.startswith("/") or refname.endswith("/"):
            raise GitError(f"ref {refname} is invalid; Git refs cannot begin or end with a slash '/'")
        sha, tag_sha = _peeled(refs, refname.removesuffix(PEELED))
        if sha is None:
            raise RefNotFoundError(f"unable to resolve ref '{refname}' to a specific commit", ref=refname)
        return Resolution(kind, refname, sha, revision(kind, refname, sha), tag_sha)
    if kind is Kind.SEMVER:
        chosen = select_semver(tag_names(refs), spec.semver)
        if chosen is None:
            raise RefNotFoundError(f"no match found for semver: {spec.semver}", ref=spec.semver)
        refname = f"refs/tags/{chosen}"
    elif kind is Kind.TAG:
        refname = f"refs/tags/{spec.tag}"
    else:
        refname = f"refs/heads/{spec.effective_branch}"
    sha, tag_sha = _peeled(refs, refname)
    if sha is None:
        raise RefNotFoundError(f'couldn\'t find remote ref "{refname}"', ref=refname)
    return Resolution(kind, refname, sha, revision(kind, refname, sha), tag_sha)
