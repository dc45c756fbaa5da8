"""OCI references and tag selection, pure: parse `oci://host/repo[:tag][@digest]` the way
go-containerregistry's `name` package does, validate an OCIRepository URL, and pick the reference
an OCIRepository's `spec.ref` asks for (digest > semver with `semverFilter` > tag > `latest`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from gotk.runtime import semver
from gotk.runtime.oci import spec

__all__ = [
    "DEFAULT_REGISTRY",
    "DEFAULT_TAG",
    "Reference",
    "ReferenceError",
    "is_cosign_tag",
    "parse",
    "parse_artifact_url",
    "parse_repository_url",
    "select_reference",
    "select_semver",
]

DEFAULT_TAG: Final = "latest"
DEFAULT_REGISTRY: Final = "index.docker.io"
_REPO_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-./")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"(sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})")
_MAX_FILTER: Final = 1024


class ReferenceError(ValueError):
    """A malformed reference, URL, semver range or tag filter."""


@dataclass(frozen=True)
class Reference:
    """`registry/repository` plus at most one of `tag` or `digest` (a digest wins if both are given)."""

    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """`registry/repository`, as Flux prints repositories."""
        return f"{self.registry}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What goes into `/v2/<repo>/manifests/<identifier>`: the digest, else the tag (default latest)."""
        return self.digest or self.tag or DEFAULT_TAG

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.registry, self.repository, tag=tag)

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.registry, self.repository, digest=digest)

    def __str__(self) -> str:
        if self.digest:
            return f"{self.name}@{self.digest}"
        return f"{self.name}:{self.tag or DEFAULT_TAG}"


def _check_repository(repo: str) -> None:
    if not repo or len(repo) > 255:
        raise ReferenceError(f"repository must be between 1 and 255 characters in length: {repo!r}")
    bad = sorted(set(repo) - _REPO_CHARS)
    if bad:
        raise ReferenceError(
            f"repository can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-./`: {repo}"
        )
    if any(not part for part in repo.split("/")):
        raise ReferenceError(f"repository has an empty path component: {repo}")


def _split_registry(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        if first != first.lower():
            raise ReferenceError(f"registry must be lowercase: {first}")
        return first, rest
    repo = name if "/" in name else f"library/{name}"
    return DEFAULT_REGISTRY, repo


def parse(ref: str) -> Reference:
    """Parse `host[:port]/path[:tag][@digest]` (no scheme); a missing registry means Docker Hub."""
    text = ref.strip()
    if not text:
        raise ReferenceError("reference is empty")
    name, _, digest = text.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        raise ReferenceError(f"invalid digest {digest!r} in {ref!r}")
    tag = ""
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise ReferenceError(f"invalid tag {tag!r} in {ref!r}")
    registry, repository = _split_registry(name)
    _check_repository(repository)
    return Reference(registry, repository, tag=tag, digest=digest)


def _strip_scheme(url: str) -> str:
    if not url.startswith(spec.OCI_PREFIX):
        raise ReferenceError("URL must be in format 'oci://<domain>/<org>/<repo>'")
    return url[len(spec.OCI_PREFIX) :]


def parse_artifact_url(url: str) -> Reference:
    """`oci://host/repo[:tag|@digest]` as the CLI takes it; a missing tag means `latest`."""
    try:
        return parse(_strip_scheme(url))
    except ReferenceError as exc:
        if url.startswith(spec.OCI_PREFIX):
            raise ReferenceError(f"'{url}' invalid URL: {exc}") from None
        raise


def parse_repository_url(url: str) -> Reference:
    """An OCIRepository `spec.url`: `oci://host/repo`, which must carry neither tag nor digest."""
    ref = parse(_strip_scheme(url))
    if ref.digest:
        raise ReferenceError(f"URL must not contain a digest; remove '@{ref.digest}'")
    if ref.tag:
        raise ReferenceError(f"URL must not contain a tag; remove ':{ref.tag}'")
    return ref


def is_cosign_tag(tag: str) -> bool:
    """Tags cosign writes next to an artifact (`sha256-<hex>.sig`, `.att`, `.sbom`)."""
    return tag.endswith(spec.COSIGN_TAG_SUFFIXES)


def _compile_filter(pattern: str) -> re.Pattern[str]:
    if len(pattern) > _MAX_FILTER:
        raise ReferenceError(f"semverFilter is longer than {_MAX_FILTER} characters")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ReferenceError(f"error parsing regexp {pattern!r}: {exc}") from None


def select_semver(tags: Iterable[str], constraint: str, tag_filter: str = "", *, helm: bool = False) -> str:
    """The tag with the highest version within `constraint` among the tags `tag_filter` matches.

    The filter is an unanchored regular expression on the raw tags, as Go's `MatchString`; tags
    that are not semver (`v` prefix allowed) are skipped. With `helm`, tags are read with `_` as
    `+` (Helm's encoding of build metadata). Raises ReferenceError when nothing matches.
    """
    pattern = _compile_filter(tag_filter) if tag_filter else None
    candidates = [t for t in tags if pattern is None or pattern.search(t)]
    if helm:
        candidates = [t.replace("_", "+") for t in candidates]
    try:
        rule = semver.Constraint(constraint)
    except semver.SemverError as exc:
        raise ReferenceError(f"semver '{constraint}' parse error: {exc}") from None
    best = semver.latest(candidates, rule)
    if best is None:
        raise ReferenceError(f"no match found for semver: {constraint}")
    return best.replace("+", "_") if helm else best


def select_reference(
    repo: Reference, ref: Mapping[str, Any] | None, list_tags: Callable[[], list[str]], *, media_type: str = ""
) -> Reference:
    """The reference `spec.ref` selects in `repo`: digest > semver (listing tags) > tag > `latest`.

    `list_tags` is called only for a semver ref; its exceptions propagate unchanged. `media_type`
    is the layerSelector's: Helm chart layers get Helm's `_`/`+` tag encoding.
    """
    ref = ref or {}
    digest = str(ref.get("digest") or "")
    if digest:
        if not _DIGEST.fullmatch(digest):
            raise ReferenceError(f"invalid digest {digest!r}")
        return repo.with_digest(digest)
    constraint = str(ref.get("semver") or "")
    if constraint:
        helm = media_type == spec.HELM_CHART_CONTENT_MEDIA_TYPE
        return repo.with_tag(select_semver(list_tags(), constraint, str(ref.get("semverFilter") or ""), helm=helm))
    tag = str(ref.get("tag") or DEFAULT_TAG)
    if not _TAG.fullmatch(tag):
        raise ReferenceError(f"invalid tag {tag!r}")
    return repo.with_tag(tag)
