"""Masterminds/semver v3 versions and constraints, as Flux uses them to pick Git tags, OCI tags,
Helm chart versions and image tags. Pure and dependency-free; source and image controllers call
`latest()` and `check()`. The Go library's quirks are kept on purpose so that a constraint selects
the same version here as in Flux; the one deliberate difference is the `MAX_CONSTRAINT_LENGTH` cap.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

__all__ = [
    "MAX_CONSTRAINT_LENGTH",
    "Constraint",
    "ConstraintError",
    "SemverError",
    "Version",
    "VersionError",
    "check",
    "latest",
    "parse",
    "parse_strict",
    "parse_tag",
]

MAX_CONSTRAINT_LENGTH: Final = 4096
"""Longer constraints are refused: Go's regexps are linear, Python's backtracking ones are not."""

_UINT64_MAX: Final = 2**64 - 1
_WS: Final = r"[\t\n\f\r ]"  # what Go's `\s` means
_DOTTED: Final = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_NUM: Final = r"(?:0|[1-9][0-9]*)"
_LOOSE = re.compile(rf"v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-({_DOTTED}))?(?:\+({_DOTTED}))?")
_STRICT = re.compile(rf"({_NUM})\.({_NUM})\.({_NUM})(?:-({_DOTTED}))?(?:\+({_DOTTED}))?")

# A version inside a constraint. Masterminds' character class for a number is `[0-9|x|X|\*]`, which
# also admits `|`; keeping it makes `1||2 - 3` rewrite across the `||` exactly as Flux does.
_XNUM: Final = r"[0-9xX*|]+"
_CV: Final = rf"v?{_XNUM}(?:\.{_XNUM})?(?:\.{_XNUM})?(?:-{_DOTTED})?(?:\+{_DOTTED})?"
_OP: Final = r"!=|>=|=>|<=|=<|~>|=|>|<|~|\^|"
_TOKEN = re.compile(
    rf"{_WS}*+(?P<op>{_OP}){_WS}*+(?P<cv>v?(?P<major>{_XNUM})(?P<minor>\.{_XNUM})?(?P<patch>\.{_XNUM})?"
    rf"(?P<pre>-{_DOTTED})?(?:\+{_DOTTED})?)"
)
_HYPHEN_RANGE = re.compile(rf"{_WS}*+((?>{_CV})){_WS}++-{_WS}++((?>{_CV})){_WS}*+")
_WS_CHARS: Final = "\t\n\f\r "
_OPERATORS: Final = {"": "=", "=>": ">=", "=<": "<=", "~>": "~"}


class SemverError(ValueError):
    """Base of this module's errors; the only exceptions its parsers raise."""


class VersionError(SemverError):
    """A string that is not a version in the requested dialect."""


class ConstraintError(SemverError):
    """A constraint Masterminds would refuse; `constraint` holds the whole input."""

    def __init__(self, constraint: str, detail: str) -> None:
        shown = constraint if len(constraint) <= 100 else constraint[:100] + "..."
        super().__init__(f"improper constraint {shown!r}: {detail}")
        self.constraint = constraint


def _ident_key(ident: str) -> tuple[int, int, str]:
    # Numeric identifiers sort before alphanumeric ones. Masterminds reads them as uint64, so a
    # larger all-digit identifier falls back to string comparison; we keep that.
    if ident.isdigit() and len(ident) <= 20 and int(ident) <= _UINT64_MAX:
        return (0, int(ident), "")
    return (1, 0, ident)


@dataclass(frozen=True, eq=False)
class Version:
    """A parsed version. Equality, hashing and ordering follow semver 2.0 precedence: build
    metadata and `original` (the text as written, e.g. `v1.2`) are ignored.
    """

    major: int
    minor: int
    patch: int
    prerelease: str = ""
    metadata: str = ""
    original: str = ""

    @property
    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        if not self.prerelease:
            return (self.major, self.minor, self.patch, 1, ())
        idents = tuple(_ident_key(part) for part in self.prerelease.split("."))
        return (self.major, self.minor, self.patch, 0, idents)

    def compare(self, other: Version) -> int:
        """-1, 0 or 1 as this version has lower, equal or higher precedence than `other`."""
        a, b = self._key, other._key
        return (a > b) - (a < b)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __lt__(self, other: Version) -> bool:
        return self._key < other._key

    def __le__(self, other: Version) -> bool:
        return self._key <= other._key

    def __gt__(self, other: Version) -> bool:
        return self._key > other._key

    def __ge__(self, other: Version) -> bool:
        return self._key >= other._key

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        if self.metadata:
            text += f"+{self.metadata}"
        return text


def _build(text: str, groups: tuple[str | None, ...]) -> Version:
    major, minor, patch, pre, meta = groups
    digits = [(part or "0").lstrip("0") or "0" for part in (major, minor, patch)]
    numbers = [int(part) if len(part) <= 20 else _UINT64_MAX + 1 for part in digits]  # Go reads uint64
    if max(numbers) > _UINT64_MAX:
        raise VersionError(f"version segment out of range in {text!r}")
    for ident in (pre or "").split("."):
        if len(ident) > 1 and ident.isdigit() and ident.startswith("0"):
            raise VersionError(f"numeric prerelease identifier {ident!r} has a leading zero in {text!r}")
    return Version(numbers[0], numbers[1], numbers[2], pre or "", meta or "", text)


def parse(text: str) -> Version:
    """Masterminds' `NewVersion`: an optional `v`, minor and patch may be missing, leading zeros
    in the numbers are tolerated (`v1`, `1.2`, `01.2.3-rc.1+b5`)."""
    match = _LOOSE.fullmatch(text)
    if match is None:
        raise VersionError(f"invalid semantic version {text!r}")
    return _build(text, match.groups())


def parse_strict(text: str) -> Version:
    """Masterminds' `StrictNewVersion`: exactly `MAJOR.MINOR.PATCH[-PRE][+META]`, no `v`."""
    match = _STRICT.fullmatch(text)
    if match is None:
        raise VersionError(f"not a strict semantic version {text!r}")
    return _build(text, match.groups())


def parse_tag(text: str) -> Version:
    """Flux's `version.ParseVersion` for tags and chart versions: strict, but one leading `v` is
    allowed (`v1.2.3` yes, `1.2` no). `original` keeps the `v`."""
    version = parse_strict(text.removeprefix("v"))
    return Version(version.major, version.minor, version.patch, version.prerelease, version.metadata, text)


class _Wild(enum.Enum):
    """Which part of a constraint's version was `x`, `X`, `*` or left out."""

    NONE = enum.auto()
    PATCH = enum.auto()  # 1.2.x, 1.2
    MINOR = enum.auto()  # 1.x, 1
    MAJOR = enum.auto()  # *, x.1.2


@dataclass(frozen=True)
class _Comparator:
    op: str
    version: Version
    wild: _Wild

    def allows(self, v: Version) -> bool:
        c, wild = self.version, self.wild
        if self.op == "=":
            return self._tilde(v) if wild is not _Wild.NONE else v == c
        if self.op == "!=":
            return self._not_equal(v)
        if self.op == ">":
            if wild is _Wild.NONE or (wild is _Wild.MAJOR and v.major == c.major):
                return v > c
            if v.major != c.major or wild is _Wild.MINOR:
                return v.major > c.major
            return v.minor > c.minor
        if self.op == "<":
            return v < c
        if self.op == ">=":
            return v >= c
        if self.op == "<=":
            if wild is _Wild.NONE:
                return v <= c
            if v.major != c.major:
                return v.major < c.major
            return v.minor <= c.minor or wild is _Wild.MINOR
        if self.op == "~":
            return self._tilde(v)
        return self._caret(v)

    def _tilde(self, v: Version) -> bool:
        c = self.version
        if v < c:
            return False
        if (c.major, c.minor, c.patch) == (0, 0, 0) and self.wild in (_Wild.NONE, _Wild.MAJOR):
            return True  # ~0.0.0 and ~* accept everything at or above the floor
        return v.major == c.major and (v.minor == c.minor or self.wild is _Wild.MINOR)

    def _caret(self, v: Version) -> bool:
        c = self.version
        if v < c:
            return False
        if c.major > 0 or self.wild is _Wild.MINOR:
            return v.major == c.major
        if v.major > 0:
            return False
        if c.minor > 0 or self.wild is _Wild.PATCH:
            return v.minor == c.minor
        return v.minor == 0 and v.patch == c.patch

    def _not_equal(self, v: Version) -> bool:
        c, wild = self.version, self.wild
        if wild in (_Wild.NONE, _Wild.MAJOR):
            if wild is _Wild.NONE or (v.major, v.minor, v.patch) == (0, 0, 0):
                return v != c
            return True
        if v.major != c.major:
            return True
        if wild is _Wild.MINOR:
            return False
        if v.minor != c.minor:
            return True
        return v.prerelease != c.prerelease


def _comparator(token: re.Match[str], constraint: str) -> _Comparator:
    major, minor, patch, pre = token["major"], token["minor"] or "", token["patch"] or "", token["pre"] or ""
    wildcards = ("x", "X", "*")
    if major in wildcards:
        wild, text = _Wild.MAJOR, f"0.0.0{pre}"
    elif minor == "" or minor[1:] in wildcards:
        wild, text = _Wild.MINOR, f"{major}.0.0{pre}"
    elif patch == "" or patch[1:] in wildcards:
        wild, text = _Wild.PATCH, f"{major}{minor}.0{pre}"
    else:
        wild, text = _Wild.NONE, token["cv"]
    try:
        version = parse(text)
    except VersionError as err:
        raise ConstraintError(constraint, f"bad version {token['cv']!r} ({err})") from None
    return _Comparator(_OPERATORS.get(token["op"], token["op"]), version, wild)


def _and_group(segment: str, constraint: str) -> tuple[_Comparator, ...]:
    """Comparators of one `||` branch: separated by whitespace or one comma, as Masterminds reads them."""
    comparators: list[_Comparator] = []
    pos = 0
    while True:
        token = _TOKEN.match(segment, pos)
        if token is None:
            raise ConstraintError(constraint, f"expected a comparator at {segment[pos:]!r}")
        comparators.append(_comparator(token, constraint))
        stop = token.end()
        while stop < len(segment) and segment[stop] in _WS_CHARS:
            stop += 1
        if stop == len(segment):
            return tuple(comparators)
        if segment[stop] == ",":
            pos = stop + 1
        elif stop > token.end():
            pos = stop
        else:
            raise ConstraintError(constraint, f"expected a space or comma before {segment[stop:]!r}")


class Constraint:
    """A parsed Masterminds constraint: `||` of AND groups (`>=1.2, <2`, `~1.2 !=1.2.5`, `1.2 - 1.4`).

    A prerelease version is allowed only by a group in which some comparator names a prerelease;
    then it is compared like any other version (`>=1.2.3-0` admits `1.5.0-rc.1`, `>=1.2.3` does not).
    """

    __slots__ = ("_groups", "text")

    def __init__(self, text: str) -> None:
        if len(text) > MAX_CONSTRAINT_LENGTH:
            raise ConstraintError(text, f"longer than {MAX_CONSTRAINT_LENGTH} characters")
        self.text = text
        rewritten = _HYPHEN_RANGE.sub(lambda m: f">= {m[1]}, <= {m[2]} ", text)
        self._groups = tuple(_and_group(segment, text) for segment in rewritten.split("||"))

    def check(self, version: Version) -> bool:
        """Whether `version` satisfies the constraint."""
        for group in self._groups:
            if version.prerelease and not any(c.version.prerelease for c in group):
                continue
            if all(c.allows(version) for c in group):
                return True
        return False

    def __contains__(self, version: Version) -> bool:
        return self.check(version)

    def __repr__(self) -> str:
        return f"Constraint({self.text!r})"

    def __str__(self) -> str:
        return self.text


def check(constraint: str | Constraint, version: str | Version) -> bool:
    """Whether `version` (read leniently, as `parse`) satisfies `constraint`; raises `SemverError`."""
    rule = constraint if isinstance(constraint, Constraint) else Constraint(constraint)
    return rule.check(version if isinstance(version, Version) else parse(version))


def latest(candidates: Iterable[str], constraint: str | Constraint) -> str | None:
    """The candidate, as written, with the highest version satisfying `constraint`, or None.

    Candidates are read as Flux reads tags (`parse_tag`); others are skipped. Among equal
    versions (`1.2.3+a`, `v1.2.3`) the first one wins, as in Flux's image policy.
    """
    rule = constraint if isinstance(constraint, Constraint) else Constraint(constraint)
    best: Version | None = None
    for text in candidates:
        try:
            version = parse_tag(text)
        except VersionError:
            continue
        if (best is None or version > best) and rule.check(version):
            best = version
    return None if best is None else best.original
