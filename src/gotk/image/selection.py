"""Choosing the latest tag, pure: an ImagePolicy's `filterTags` (Go regexp syntax, `extract` expanded as
Go's `Regexp.ExpandString`) and its `policy` (`semver`, `alphabetical`, `numerical`, each with Flux's
ordering rules), plain data in and plain data out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from gotk.runtime import semver

__all__ = [
    "InvalidPolicyError",
    "NoMatchError",
    "TagFilter",
    "compile_go_regexp",
    "expand",
    "latest",
    "select",
    "validate",
]

_POSIX_CLASSES: Final = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7F",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1F\\x7F",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_GO_FLOAT: Final = re.compile(  # strconv.ParseFloat's syntax: underscores only after a base prefix
    r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?"
    r"|0[xX](?:_?[0-9a-fA-F])+(?:\.[0-9a-fA-F]*)?[pP][+-]?\d+|inf(?:inity)?|nan)",
    re.IGNORECASE,
)


class InvalidPolicyError(ValueError):
    """The policy or the tag filter cannot work for any tag list: the ImagePolicy stalls."""


class NoMatchError(ValueError):
    """No tag is left for the policy to choose from, or none satisfies it."""


def compile_go_regexp(pattern: str) -> re.Pattern[str]:
    """Compile a Go (RE2) pattern with Python's engine: `(?<name>` and POSIX classes are translated."""
    text = pattern.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!")
    text = re.sub(r"\[:(\^?)([a-z]+):\]", lambda m: _posix(m.group(1), m.group(2), m.group(0)), text)
    text = text.replace("\\z", "\\Z")
    try:
        return re.compile(text)
    except re.error as exc:
        raise InvalidPolicyError(f"invalid regular expression pattern '{pattern}': {exc}") from None


def _posix(negate: str, name: str, original: str) -> str:
    chars = _POSIX_CLASSES.get(name)
    if chars is None:
        return original
    return ("^" if negate else "") + chars  # `[[:^alpha:]]` becomes `[^A-Za-z]`


_NAME: Final = re.compile(r"\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+)")


def expand(template: str, match: re.Match[str]) -> str:
    """Go's `Regexp.ExpandString`: `$name`, `${name}` and `$1` are groups (unknown or unmatched: empty),
    `$$` is a dollar sign; a `$` followed by anything else is kept as it is."""
    out: list[str] = []
    i = 0
    groups = match.re.groupindex
    while i < len(template):
        ch = template[i]
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        if template.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        found = _NAME.match(template, i + 1)
        if found is None:
            out.append("$")
            i += 1
            continue
        name = found.group(1) or found.group(2)
        i = found.end()
        if name.isdigit():
            index = int(name)
            value = match.group(index) if index <= (match.re.groups or 0) else None
        else:
            value = match.group(name) if name in groups else None
        out.append(value or "")
    return "".join(out)


@dataclass(frozen=True)
class TagFilter:
    """`filterTags`: keep the tags `pattern` finds a match in; with `extract`, order them by the expansion."""

    pattern: re.Pattern[str]
    extract: str = ""

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | None) -> TagFilter | None:
        if not spec:
            return None
        try:
            pattern = compile_go_regexp(str(spec.get("pattern") or ""))
        except InvalidPolicyError as exc:
            raise InvalidPolicyError(f"failed to filter tags: {exc}") from None
        return cls(pattern, str(spec.get("extract") or ""))

    def apply(self, tags: Iterable[str]) -> dict[str, str]:
        """The value each kept tag is ordered by, mapped to the tag (a later tag wins a shared value)."""
        kept: dict[str, str] = {}
        for tag in tags:
            found = self.pattern.search(tag)
            if found is None:
                continue
            kept[expand(self.extract, found) if self.extract else tag] = tag
        return kept


def _order(spec: Mapping[str, Any]) -> str:
    order = str(spec.get("order") or "asc").upper()
    if order not in ("ASC", "DESC"):
        raise InvalidPolicyError(
            f"invalid policy: invalid order argument provided: '{order}', must be one of: ASC, DESC"
        )
    return order


def _parse_float(text: str) -> float | None:
    """Go's `strconv.ParseFloat(text, 64)`: None where Go would fail (Python's `float` is laxer)."""
    if not _GO_FLOAT.fullmatch(text):
        return None
    try:
        if text.lower().lstrip("+-").startswith("0x"):
            return float.fromhex(text.replace("_", ""))
        return float(text.replace("_", ""))
    except (ValueError, OverflowError):
        return None


def latest(choice: Mapping[str, Any], tags: list[str]) -> str:
    """The tag `choice` (an ImagePolicy's `spec.policy`) picks from `tags`, as Flux's policers do."""
    if not choice or not any(choice.get(k) is not None for k in ("semver", "alphabetical", "numerical")):
        raise InvalidPolicyError("invalid policy: given ImagePolicyChoice object is invalid")
    if choice.get("semver") is not None:
        text = str((choice["semver"] or {}).get("range") or "")
        try:
            rule = semver.Constraint(text)
        except semver.SemverError as exc:
            raise InvalidPolicyError(f"invalid policy: spec.policy.semver.range '{text}': {exc}") from None
        if not tags:
            raise NoMatchError("version list argument cannot be empty")
        found = semver.latest(tags, rule)
        if found is None:
            raise NoMatchError("unable to determine latest version from provided list")
        return found
    if choice.get("alphabetical") is not None:
        order = _order(choice["alphabetical"] or {})
        if not tags:
            raise NoMatchError("version list argument cannot be empty")
        return min(tags) if order == "DESC" else max(tags)
    order = _order(choice["numerical"] or {})
    if not tags:
        raise NoMatchError("version list argument cannot be empty")
    best, best_value = "", 0.0
    for i, tag in enumerate(tags):
        value = _parse_float(tag)
        if value is None:
            raise NoMatchError(f"failed to parse invalid numeric value '{tag}'")
        if i and (value < best_value if order == "ASC" else value > best_value):
            continue
        best, best_value = tag, value
    return best


def validate(spec: Mapping[str, Any]) -> None:
    """Raise `InvalidPolicyError` for a policy no tag list can satisfy (checked before the tags are read)."""
    choice = spec.get("policy") or {}
    try:
        latest(choice, [])
    except NoMatchError:
        pass
    TagFilter.from_spec(spec.get("filterTags"))


def select(spec: Mapping[str, Any], tags: list[str]) -> str:
    """The tag an ImagePolicy's spec (`policy` and `filterTags`) selects from a repository's tags."""
    choice = spec.get("policy") or {}
    validate(spec)
    tag_filter = TagFilter.from_spec(spec.get("filterTags"))
    if tag_filter is None:
        return latest(choice, tags)
    kept = tag_filter.apply(tags)
    return kept[latest(choice, list(kept))]
