"""go-yaml v3 as sops reads and writes YAML, on top of PyYAML: YAML 1.2 resolution and yaml.v3's layout.

The loader resolves plain scalars like go-yaml v3 (YAML 1.2 bools and nulls, Go integer syntax, timestamps
as datetimes), which SOPS' MAC depends on; the dumper writes yaml.v3's look (indented sequences, double
quotes, literal multi-line strings) and quotes what a YAML 1.2 reader would take for another type.
See gotk.gocompat.yaml for go-yaml v2, whose rules differ (``yes`` is a bool there, a string here).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import yaml

from gotk.gocompat import strconv, times

__all__ = ["Timestamp", "dump_all", "load_all"]


class _Loader(yaml.SafeLoader):
    """Resolves plain scalars like go-yaml v3: YAML 1.2 bools/nulls, Go integer syntax, timestamps."""

    yaml_implicit_resolvers: dict[Any, Any] = {}


_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?(Z|[-+]\d{2}:\d{2})?)?$"
)
for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^[-+]?(?:0[bB][01_]+|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    (
        "timestamp",
        r"^\d{4}-\d{1,2}-\d{1,2}(?:[Tt]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:Z|[-+]\d{2}:\d{2})"
        r"| \d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?)?$",
        "0123456789",
    ),
    ("merge", r"^(?:<<)$", "<"),
):
    _Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        number = int(text, 8) if re.fullmatch(r"[-+]?0[0-7]+", text) else int(text, 0)  # strconv.ParseInt(s, 0)
    except ValueError:
        return float(text)  # "08": not an int for Go, but a YAML float
    return number if strconv.INT64_MIN <= number <= strconv.INT64_MAX else float(number)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node).replace("_", "")
    special = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
    try:
        return special.get(text.lower(), None) or float(text)
    except ValueError:
        return loader.construct_scalar(node)


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    match = _TIMESTAMP.match(text)
    try:
        assert match is not None
        y, mo, d, h, mi, s, frac, tz = match.groups()
        zone = UTC
        if tz and tz != "Z":
            minutes = int(tz[1:3]) * 60 + int(tz[4:6])
            zone = timezone(timedelta(minutes=-minutes if tz[0] == "-" else minutes))
        micro = int((frac or "").ljust(6, "0")[:6])
        return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro, tzinfo=zone)
    except (AssertionError, ValueError):
        return text


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load_all(data: bytes) -> list[Any]:
    """Every document of a YAML stream, as go-yaml v3 decodes them (None for an empty one).

    Raises yaml.YAMLError on invalid YAML."""
    return list(yaml.load_all(data, Loader=_Loader))


class Timestamp(str):
    """Text already in RFC 3339 form, written as a plain (untagged) YAML timestamp."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    """yaml.v3's look: indented sequences, `- key:` items, double quotes, literal multi-line strings."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        if not flow and self.sequence_context and isinstance(self.event, yaml.MappingStartEvent):
            self.indents.append(self.indent)
            self.indent = (self.indent or 0) + 2
            return
        super().increase_indent(flow, False)

    def choose_scalar_style(self) -> str:
        style = super().choose_scalar_style()
        return '"' if style == "'" else style


# plain scalars that YAML 1.2 readers (yaml.v3, kustomize) take for numbers, booleans or null, although
# PyYAML's YAML 1.1 resolver does not: such strings must be quoted or they change type downstream
_YAML12_NON_STRING = re.compile(
    r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
    r"|0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|true|True|TRUE|false|False|FALSE|null|Null|NULL|~"
)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    style = '"' if _YAML12_NON_STRING.fullmatch(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_time(dumper: yaml.SafeDumper, value: Any) -> yaml.ScalarNode:
    text = str(value) if isinstance(value, Timestamp) else times.format_rfc3339nano(value)
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", text)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Timestamp, _represent_time)
_Dumper.add_representer(datetime, _represent_time)


def dump_all(documents: list[Any]) -> str:
    """YAML documents as sops writes them through yaml.v3: four-space indent, lines never folded."""
    return yaml.dump_all(documents, Dumper=_Dumper, indent=4, sort_keys=False, allow_unicode=True, width=2**31 - 1)
