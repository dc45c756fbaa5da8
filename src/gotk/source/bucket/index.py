"""The object index of a Bucket source: which keys go into the artifact, and its revision.

Pure functions, no I/O. `build_index` filters a bucket listing (directory markers, the root
`.sourceignore`, ignore rules) and refuses keys that are not safe relative paths; `revision` is
Flux's digest of the sorted `<key> <etag>` lines. Used by `gotk.source.bucket.s3` and the
Bucket reconciler (`gotk.source.bucket.reconciler`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from gotk.runtime import artifacts
from gotk.source import ignore

__all__ = [
    "IGNORE_KEY",
    "Index",
    "UnsafeKeyError",
    "build_index",
    "check_key",
    "check_layout",
    "index_text",
    "make_matcher",
    "revision",
    "revision_matches",
]

IGNORE_KEY: Final = ignore.IGNORE_FILE
"""The bucket-root object whose patterns exclude keys (never itself part of the index)."""

Index = dict[str, str]
"""Object key -> etag (without quotes) of every object that goes into the artifact."""


class UnsafeKeyError(ValueError):
    """An object key cannot be written below the download directory as it stands."""


def make_matcher(sourceignore: str | None, spec_ignore: str | None) -> ignore.Matcher:
    """The key matcher of a Bucket: the root `.sourceignore`, then `spec.ignore` (higher priority).

    Unlike Git sources no default exclusions apply, as in Flux's bucket controller.
    """
    patterns = ignore.read_patterns(sourceignore) if sourceignore else []
    if spec_ignore is not None:
        patterns.extend(ignore.read_patterns(spec_ignore))
    return ignore.make_matcher(patterns, defaults=False)


def check_key(key: str) -> None:
    """Refuse a key that is absolute or has an empty, `.` or `..` element (or a NUL byte)."""
    if not key or key.startswith("/") or "\x00" in key:
        raise UnsafeKeyError(f"object key {key!r} is not a safe relative path")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise UnsafeKeyError(f"object key {key!r} is not a safe relative path")


def check_layout(keys: Iterable[str]) -> None:
    """Refuse keys that need a directory where another key is a file (`a` and `a/b`)."""
    files = set(keys)
    for key in sorted(files):
        parts = key.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent in files:
                raise UnsafeKeyError(f"object key {key!r} needs a directory where object {parent!r} is")


def build_index(objects: Iterable[tuple[str, str]], matcher: ignore.Matcher | None = None) -> Index:
    """The index of a listing of (key, etag) pairs, as Flux builds it, with unsafe keys refused.

    Keys ending in `/` (directory markers) and the root `.sourceignore` are skipped, then keys the
    matcher excludes; what remains must be safe (`check_key`, `check_layout`) or UnsafeKeyError is
    raised, so an ignore rule or a prefix is the way to leave a bad key out.
    """
    index: Index = {}
    for key, etag in objects:
        if key.endswith("/") or key == IGNORE_KEY:
            continue
        if matcher is not None and matcher.match(key.split("/"), False):
            continue
        check_key(key)
        index[key] = etag
    check_layout(index)
    return index


def _sorted_keys(index: Mapping[str, str]) -> list[str]:
    # Go's sort.Strings orders by bytes; for UTF-8 that is code-point order, but be explicit.
    return sorted(index, key=lambda k: k.encode("utf-8", "surrogateescape"))


def index_text(index: Mapping[str, str]) -> str:
    """The index as Flux serializes it: one `<key> <etag>` line per key, keys in byte order."""
    return "".join(f"{key} {index[key]}\n" for key in _sorted_keys(index))


def revision(index: Mapping[str, str], algo: str = "sha256") -> str:
    """`<algo>:<hex>` of `index_text(index)`: the Bucket artifact revision."""
    hasher = artifacts.new_hasher(algo)
    for key in _sorted_keys(index):
        hasher.update(f"{key} {index[key]}\n".encode("utf-8", "surrogateescape"))
    return f"{algo}:{hasher.hexdigest()}"


def revision_matches(index: Mapping[str, str], current: str | None) -> bool:
    """Whether `current` (an artifact revision) is the digest of `index`, in the algorithm it names."""
    if not current or ":" not in current:
        return False
    try:
        algo, _ = artifacts.parse_digest(current)
    except artifacts.InvalidDigestError:
        return False
    return revision(index, algo) == current.lower()
