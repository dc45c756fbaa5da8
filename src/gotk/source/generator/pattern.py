"""`spec.pathPattern`, pure: which directories of a source match `@alias/apps/{app}/envs/{env}`, and the
output artifacts rendered for each (names and labels from the lowercased captures, copy paths from the
captures as found), with Flux's checks: capture names, label values, object names, and case collisions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["ArtifactRequest", "PatternError", "expand", "render"]


def _q(text: str) -> str:
    """Go's `%q` for the messages (double quotes, escapes)."""
    return json.dumps(text, ensure_ascii=False)


_CAPTURE_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LABEL_NAME: Final = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE: Final = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_DNS_SUBDOMAIN: Final = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


class PatternError(ValueError):
    """The pattern or what it matched cannot make artifacts; `terminal` ones stall the generator."""

    def __init__(self, message: str, *, terminal: bool = True) -> None:
        super().__init__(message)
        self.terminal = terminal


@dataclass(frozen=True)
class ArtifactRequest:
    """One artifact to build: its spec (`name`, `copy`, `revision`, `originRevision`) and its labels."""

    spec: Mapping[str, Any]
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.spec.get("name") or "")


def _check_captures(pattern: str, text: str) -> None:
    seen: set[str] = set()
    i = 0
    while i < len(text):
        if text[i] == "{":
            end = text.find("}", i + 1)
            if end < 0:
                raise PatternError(
                    f"pathPattern {_q(pattern)}: invalid capture starting at offset {i}: missing closing brace"
                )
            name = text[i + 1 : end]
            if not name:
                raise PatternError(f"pathPattern {_q(pattern)}: empty capture variable")
            if not _CAPTURE_NAME.fullmatch(name):
                raise PatternError(
                    f"pathPattern {_q(pattern)}: capture variable {_q(name)} must be a valid capture name matching "
                    "[A-Za-z_][A-Za-z0-9_]*"
                )
            if name in seen:
                raise PatternError(f"pathPattern {_q(pattern)}: duplicate capture variable {_q(name)}")
            seen.add(name)
            i = end + 1
            continue
        if text[i] == "}":
            raise PatternError(
                f"pathPattern {_q(pattern)}: invalid capture ending at offset {i}: missing opening brace"
            )
        i += 1


def render(template: str, values: Mapping[str, str]) -> str:
    """`{name}` placeholders replaced by `values`; an unknown or malformed one raises PatternError."""
    out, i = [], 0
    while i < len(template):
        ch = template[i]
        if ch == "{":
            end = template.find("}", i + 1)
            if end < 0:
                raise PatternError(
                    f"invalid template {_q(template)}: capture starting at offset {i} is missing closing brace"
                )
            name = template[i + 1 : end]
            if not name:
                raise PatternError(f"invalid template {_q(template)}: empty capture variable")
            if not _CAPTURE_NAME.fullmatch(name):
                raise PatternError(
                    f"invalid template {_q(template)}: capture variable {_q(name)} must be a valid capture name "
                    "matching [A-Za-z_][A-Za-z0-9_]*"
                )
            if name not in values:
                raise PatternError(
                    f"invalid template {_q(template)}: capture variable {_q(name)} is not defined by pathPattern"
                )
            out.append(values[name])
            i = end + 1
            continue
        if ch == "}":
            raise PatternError(
                f"invalid template {_q(template)}: capture ending at offset {i} is missing opening brace"
            )
        out.append(ch)
        i += 1
    return "".join(out)


def _render_request(spec: Mapping[str, Any], lowered: Mapping[str, str], raw: Mapping[str, str]) -> ArtifactRequest:
    rendered = dict(spec)
    rendered["name"] = render(str(spec.get("name") or ""), lowered)
    rendered["copy"] = [
        {**op, "from": render(str(op.get("from") or ""), raw), "to": render(str(op.get("to") or ""), raw)}
        for op in spec.get("copy") or []
    ]
    return ArtifactRequest(rendered, dict(lowered))


def expand(
    path_pattern: str, artifacts: Sequence[Mapping[str, Any]], directories: Iterable[str]
) -> list[ArtifactRequest]:
    """The artifacts for every directory (slash paths relative to the pattern's source, in walk order) that
    the pattern's path matches; raises PatternError."""
    alias_part, sep, text = path_pattern.partition("/")
    if not sep or not alias_part.startswith("@"):
        raise PatternError(f"invalid pathPattern format: {path_pattern}")
    _check_captures(path_pattern, text)
    regex = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(text))
    matcher = re.compile(regex)
    for name in matcher.groupindex:
        if len(name) > 63 or not _LABEL_NAME.fullmatch(name):
            raise PatternError(
                f"pathPattern {_q(path_pattern)}: capture variable {_q(name)} is not a valid Kubernetes label key: "
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                "alphanumeric character"
            )
    requests: list[ArtifactRequest] = []
    seen: dict[str, str] = {}
    for rel in directories:
        found = matcher.fullmatch(rel)
        if found is None:
            continue
        raw = {k: v for k, v in found.groupdict().items() if v is not None}
        lowered = {k: v.lower() for k, v in raw.items()}
        for key, value in lowered.items():
            if len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
                raise PatternError(
                    f"pathPattern {_q(path_pattern)}: captured value {_q(value)} for variable {_q(key)} is not a valid "
                    "Kubernetes label value: a valid label must be an empty string or consist of alphanumeric "
                    "characters, '-', '_' or '.', and must start and end with an alphanumeric character"
                )
        for spec in artifacts:
            try:
                req = _render_request(spec, lowered, raw)
            except PatternError as exc:
                raise PatternError(
                    f"pathPattern {_q(path_pattern)}: failed to render artifact {spec.get('name')} "
                    f"for match {rel}: {exc}"
                ) from None
            if len(req.name) > 253 or not _DNS_SUBDOMAIN.fullmatch(req.name):
                raise PatternError(
                    f"pathPattern {_q(path_pattern)}: rendered artifact name {_q(req.name)} is not a valid Kubernetes "
                    "object name"
                )
            if req.name in seen:
                raise PatternError(
                    f"pathPattern {_q(path_pattern)}: directories {_q(seen[req.name])} and {_q(rel)} both resolve to "
                    f"artifact name {_q(req.name)}"
                )
            seen[req.name] = rel
            requests.append(req)
    return requests
