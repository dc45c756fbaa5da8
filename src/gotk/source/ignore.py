"""Which files of a source tree are left out of its artifact: Flux's default exclusions,
`.sourceignore` files and `spec.ignore`, all in the gitignore dialect Flux uses (go-git's).

Matching is pure; only `load_ignore_patterns` and `build_matcher` read the filesystem (they block,
so call them from async code through `asyncio.to_thread`). `gotk.source.storage.archive_dir` takes
the resulting `Matcher` as its `exclude` filter.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Final

__all__ = [
    "DEFAULT_PATTERNS",
    "IGNORE_FILE",
    "MAX_IGNORE_FILE_SIZE",
    "VCS_PATTERNS",
    "Match",
    "Matcher",
    "Pattern",
    "build_matcher",
    "load_ignore_patterns",
    "make_matcher",
    "parse_pattern",
    "read_patterns",
]

IGNORE_FILE: Final = ".sourceignore"
MAX_IGNORE_FILE_SIZE: Final = 1 << 20
"""A `.sourceignore` larger than this is refused (OSError EFBIG) rather than read into memory."""

VCS_PATTERNS: Final[tuple[str, ...]] = (".git/", ".gitignore", ".gitmodules", ".gitattributes")
"""Always excluded for Git/OCI sources, even when `.sourceignore` or `spec.ignore` patterns exist."""

DEFAULT_PATTERNS: Final[tuple[str, ...]] = (
    # file extensions
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    # CI configs
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    # CLI and Flux v1 configs
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
)
"""Excluded only while no `.sourceignore` or `spec.ignore` pattern exists (Flux replaces them)."""


class Match(Enum):
    """Outcome of one pattern against one path."""

    NONE = 0
    EXCLUDE = 1
    INCLUDE = 2


_BAD_PATTERN: Final = re.compile(r"(?!)")  # Go's ErrBadPattern: the pattern never matches


def _class_to_regex(pat: str, i: int) -> tuple[str, int] | None:
    """Translate a Go `[...]` class starting after `[` at `pat[i]`; None when malformed."""
    negated = i < len(pat) and pat[i] == "^"
    if negated:
        i += 1
    ranges: list[str] = []
    count = 0
    while True:
        if i < len(pat) and pat[i] == "]" and count > 0:
            i += 1
            break
        got = _class_char(pat, i)
        if got is None:
            return None
        lo, i = got
        hi = lo
        if pat[i] == "-":  # _class_char guarantees pat[i] exists
            got = _class_char(pat, i + 1)
            if got is None:
                return None
            hi, i = got
        if lo <= hi:  # Go accepts an inverted range; it just matches nothing
            ranges.append(f"{re.escape(lo)}-{re.escape(hi)}")
        count += 1
    if not ranges:
        return ("." if negated else "(?!)"), i
    return f"[{'^' if negated else ''}{''.join(ranges)}]", i


def _class_char(pat: str, i: int) -> tuple[str, int] | None:
    """One (possibly escaped) class character at `pat[i]`, and the index after it."""
    if i >= len(pat) or pat[i] in "-]":
        return None
    if pat[i] == "\\":
        i += 1
        if i >= len(pat):
            return None
    ch = pat[i]
    i += 1
    if i >= len(pat):  # the class is never closed
        return None
    return ch, i


def _compile_name_glob(pat: str) -> re.Pattern[str]:
    """Compile Go's `filepath.Match` syntax (`*`, `?`, `[^a-z]`, `\\` escapes) for one path element."""
    out: list[str] = []
    i = 0
    while i < len(pat):
        ch = pat[i]
        i += 1
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            got = _class_to_regex(pat, i)
            if got is None:
                return _BAD_PATTERN
            cls, i = got
            out.append(cls)
        elif ch == "\\":
            if i >= len(pat):
                return _BAD_PATTERN
            out.append(re.escape(pat[i]))
            i += 1
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


@dataclass(frozen=True)
class Pattern:
    """One parsed gitignore line, scoped to `domain` (the directory of the file it came from)."""

    text: str
    domain: tuple[str, ...]
    parts: tuple[str, ...]
    inclusion: bool
    dir_only: bool
    is_glob: bool
    _regexes: tuple[re.Pattern[str], ...] = field(repr=False, compare=False)

    def match(self, path: Sequence[str], is_dir: bool) -> Match:
        """Match `path` (elements relative to the source root) against this pattern."""
        n = len(self.domain)
        if len(path) <= n or tuple(path[:n]) != self.domain:
            return Match.NONE
        rest = path[n:]
        hit = self._glob_match(rest, is_dir) if self.is_glob else self._name_match(rest, is_dir)
        if not hit:
            return Match.NONE
        return Match.INCLUDE if self.inclusion else Match.EXCLUDE

    def _name_match(self, path: Sequence[str], is_dir: bool) -> bool:
        # A slash-free pattern matches any element; as a directory (not the last element) it
        # therefore also covers everything below it.
        regex = self._regexes[0]
        for i, name in enumerate(path):
            if regex.fullmatch(name) is None:
                continue
            return not (self.dir_only and not is_dir and i == len(path) - 1)
        return False

    def _glob_match(self, path: Sequence[str], is_dir: bool) -> bool:
        # Mirrors go-git's prefix matcher: the pattern must match a leading run of elements;
        # `**` lets the next element float; whatever follows the matched prefix is inside it.
        rest = list(path)
        matched = False
        traverse = False
        last = len(self.parts) - 1
        for i, part in enumerate(self.parts):
            if part == "":
                traverse = False
                continue
            if part == "**":
                if i == last:
                    break
                traverse = True
                continue
            if "**" in part:
                return False
            if not rest:
                return False
            regex = self._regexes[i]
            if traverse:
                traverse = False
                while rest:
                    name = rest.pop(0)
                    if regex.fullmatch(name) is not None:
                        matched = True
                        break
                    if not rest:
                        matched = False
            else:
                if regex.fullmatch(rest[0]) is None:
                    return False
                matched = True
                rest.pop(0)
        if matched and self.dir_only and not is_dir and not rest:
            return False
        return matched


def parse_pattern(line: str, domain: Sequence[str] = ()) -> Pattern:
    """Parse one gitignore pattern line (not a comment) the way Flux's matcher does."""
    text = line
    inclusion = line.startswith("!")
    if inclusion:
        line = line[1:]
    if not line.endswith("\\ "):
        line = line.rstrip(" ")
    dir_only = line.endswith("/")
    if dir_only:
        line = line[:-1]
    is_glob = "/" in line
    parts = tuple(line.split("/"))
    regexes = tuple(_compile_name_glob(p) for p in parts)
    return Pattern(
        text=text,
        domain=tuple(domain),
        parts=parts,
        inclusion=inclusion,
        dir_only=dir_only,
        is_glob=is_glob,
        _regexes=regexes,
    )


def read_patterns(text: str, domain: Sequence[str] = ()) -> list[Pattern]:
    """Parse a `.sourceignore`/`spec.ignore` document: one pattern a line, `#` comments, blanks skipped."""
    patterns: list[Pattern] = []
    for raw in text.split("\n"):
        line = raw[:-1] if raw.endswith("\r") else raw
        if line.startswith("#") or not line.strip():
            continue
        patterns.append(parse_pattern(line, domain))
    return patterns


def _read_ignore_file(path: Path, domain: Sequence[str]) -> list[Pattern]:
    # Not following a symlinked ignore file keeps a repository from making us read files outside it.
    try:
        st = path.lstat()
    except FileNotFoundError:
        return []
    if not stat.S_ISREG(st.st_mode):
        return []
    if st.st_size > MAX_IGNORE_FILE_SIZE:
        raise OSError(errno.EFBIG, f"ignore file is larger than {MAX_IGNORE_FILE_SIZE} bytes", str(path))
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    return read_patterns(text, domain)


def load_ignore_patterns(root: Path, domain: Sequence[str] = ()) -> list[Pattern]:
    """Collect the patterns of every `.sourceignore` under `root` (blocking).

    Each file's patterns are scoped to its own directory. Order is parent before children and
    siblings by name, so deeper files take priority; `.git` directories are not searched.
    """
    patterns = _read_ignore_file(root / IGNORE_FILE, domain)
    with os.scandir(root) as it:
        subdirs = sorted(e.name for e in it if e.is_dir(follow_symlinks=False) and e.name != ".git")
    for name in subdirs:
        patterns.extend(load_ignore_patterns(root / name, (*domain, name)))
    return patterns


class Matcher:
    """Decides whether a path (relative to the source root, `/`-separated) is excluded.

    Patterns are given lowest priority first; the last pattern that matches decides, and a
    negated (`!`) pattern re-includes. Call it as `matcher("deploy/app.yaml", False)`.
    """

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        self.patterns: tuple[Pattern, ...] = tuple(patterns)

    @property
    def can_prune(self) -> bool:
        """True when no pattern re-includes, so an excluded directory's contents are excluded too."""
        return not any(p.inclusion for p in self.patterns)

    def match(self, path: Sequence[str], is_dir: bool) -> bool:
        """Whether the path given as elements is excluded."""
        for pattern in reversed(self.patterns):
            result = pattern.match(path, is_dir)
            if result is not Match.NONE:
                return result is Match.EXCLUDE
        return False

    def __call__(self, rel_path: str, is_dir: bool) -> bool:
        return self.match([p for p in rel_path.split("/") if p], is_dir)


def make_matcher(patterns: Sequence[Pattern], *, defaults: bool = True) -> Matcher:
    """Combine user patterns (`.sourceignore` files, then `spec.ignore`) with Flux's defaults.

    With `defaults` (GitRepository, OCIRepository): the VCS patterns always apply; the other default
    exclusions apply only while `patterns` is empty, since Flux replaces them as soon as any
    user pattern exists. Without `defaults` (Bucket) only `patterns` apply.
    """
    if not defaults:
        return Matcher(patterns)
    vcs = [parse_pattern(p) for p in VCS_PATTERNS]
    if patterns:
        return Matcher([*vcs, *patterns])
    return Matcher([*vcs, *(parse_pattern(p) for p in DEFAULT_PATTERNS)])


def build_matcher(root: Path, spec_ignore: str | None, *, defaults: bool = True) -> Matcher:
    """The exclusion matcher for the tree at `root` (blocking: it reads every `.sourceignore`).

    `spec_ignore` is the object's `spec.ignore` text; its patterns have the highest priority.
    """
    patterns = load_ignore_patterns(root)
    if spec_ignore is not None:
        patterns.extend(read_patterns(spec_ignore))
    return make_matcher(patterns, defaults=defaults)
