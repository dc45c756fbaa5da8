"""The file formats around SOPS decryption: loading YAML/JSON/dotenv the way sops' Go stores do,
and emitting the decrypted tree the way `sops -d` prints it (Go number, time and JSON spelling).

Used only by gotk.kustomize.sops; the MAC depends on loading scalars exactly like go-yaml v3 and
encoding/json, which is why YAML is read with its own resolver table rather than PyYAML's 1.1 one.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import yaml

__all__ = [
    "GO_BOOLS",
    "MARKERS",
    "SUPPORTED",
    "GoTime",
    "SopsError",
    "emit",
    "format_for_path",
    "go_float",
    "go_time",
    "load_dotenv",
    "load_json",
    "load_yaml",
]


class SopsError(Exception):
    """A SOPS document cannot be decrypted or fails its integrity check."""


# Flux's sopsFormatToMarkerBytes; the binary envelope shares JSON's marker and loads the same way.
MARKERS = {"yaml": b"mac: ENC[", "json": b'"mac": "ENC[', "dotenv": b"sops_mac=ENC[", "ini": b"[sops]"}
SUPPORTED = frozenset({"yaml", "json", "dotenv", "binary"})
GO_BOOLS = {s: True for s in ("1", "t", "T", "TRUE", "true", "True")} | {
    s: False for s in ("0", "f", "F", "FALSE", "false", "False")
}  # strconv.ParseBool
_INT64 = range(-(2**63), 2**63)


def format_for_path(path: str) -> str:
    if path.endswith(".dockerconfigjson"):
        return "json"
    for suffix, fmt in ((".yaml", "yaml"), (".yml", "yaml"), (".json", "json"), (".env", "dotenv"), (".ini", "ini")):
        if path.endswith(suffix):
            return fmt
    return "binary"


# -- Go spellings ---------------------------------------------------------------------------------


def go_float(value: float) -> str:
    """strconv.FormatFloat(value, 'f', -1, 64): shortest digits, never an exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return format(Decimal(repr(value)).normalize(), "f")


def _go_float_g(value: float) -> str:
    """strconv.FormatFloat(value, 'G', -1, 64), as sops' ValToString uses for dotenv output."""
    if not math.isfinite(value):
        return go_float(value)
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    exp = len(digits) + int(exponent) - 1
    if value == 0 or -4 <= exp < 6:
        return go_float(value)
    text = "".join(map(str, digits))
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}E{'-' if exp < 0 else '+'}{abs(exp):02d}"


def go_time(value: date) -> str:
    """time.Time.MarshalText (RFC 3339 with trimmed nanoseconds); a bare date is midnight UTC."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    minutes = int((value.utcoffset() or timedelta()).total_seconds()) // 60
    if not minutes:
        return text + "Z"
    return f"{text}{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# -- loading --------------------------------------------------------------------------------------


class _GoYamlLoader(yaml.SafeLoader):
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
    _GoYamlLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        number = int(text, 8) if re.fullmatch(r"[-+]?0[0-7]+", text) else int(text, 0)  # strconv.ParseInt(s, 0)
    except ValueError:
        return float(text)  # "08": not an int for Go, but a YAML float
    return number if number in _INT64 else float(number)


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


_GoYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load_yaml(data: bytes) -> list[Any]:
    """All documents of a YAML stream (sops keeps one tree branch per document)."""
    try:
        docs = list(yaml.load_all(data, Loader=_GoYamlLoader))
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "malformed YAML"
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SopsError(f"failed to load encrypted YAML data: {problem}{where}") from None
    return [{} if doc is None else doc for doc in docs]


def _json_int(text: str) -> int | float:
    number = int(text)
    return number if number in _INT64 else float(text)  # sops' normalizeJSONNumber


def load_json(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data, parse_int=_json_int)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f": {exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise SopsError(f"failed to load encrypted JSON data{where}") from None
    if not isinstance(doc, dict):
        raise SopsError("SOPS only supports JSON files with a top-level object")
    return doc


def load_dotenv(data: bytes) -> tuple[list[tuple[str | None, str]], dict[str, Any]]:
    """The entries of a dotenv file (key None for a comment) and its unflattened `sops_*` metadata."""
    entries: list[tuple[str | None, str]] = []
    flat: dict[str, str] = {}
    for number, line in enumerate(data.split(b"\n"), 1):
        text = line.decode("utf-8", "surrogateescape")
        if not text:
            continue
        if text.startswith("#"):
            entries.append((None, text[1:]))
            continue
        key, sep, value = text.partition("=")
        if not sep:
            raise SopsError(f"invalid dotenv input line {number}")
        value = value.replace("\\n", "\n")
        if key.startswith("sops_"):
            flat[key[len("sops_") :]] = value
        else:
            entries.append((key, value))
    if not flat:
        raise SopsError("sops metadata not found")
    return entries, _unflatten(flat)


def _unflatten(flat: Mapping[str, str]) -> dict[str, Any]:
    """Undo stores/flatten.go: `age__list_0__map_enc` becomes {"age": [{"enc": ...}]}."""
    root: dict[Any, Any] = {}
    for key, value in flat.items():
        parts = re.split(r"(__map_|__list_)", key)
        tokens: list[Any] = [parts[0]]
        for sep, part in zip(parts[1::2], parts[2::2], strict=True):
            tokens.append(int(part) if sep == "__list_" and part.isdigit() else part)
        node = root
        for token in tokens[:-1]:
            node = node.setdefault(token, {})
            if not isinstance(node, dict):
                raise SopsError(f"malformed flattened SOPS metadata key {key!r}")
        node[tokens[-1]] = value
    result = _lists(root)
    assert isinstance(result, dict)
    return result


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _lists(value) for key, value in node.items()}
    if items and all(isinstance(key, int) for key in items):
        if sorted(items) != list(range(len(items))):
            raise SopsError("malformed flattened SOPS metadata: incomplete list")
        return [items[index] for index in range(len(items))]
    return items


# -- emitting -------------------------------------------------------------------------------------


def emit(fmt: str, tree: Any) -> bytes:
    """Emit a decrypted tree: a dict (json, binary), a list of documents (yaml) or dotenv entries."""
    if fmt == "json":
        return (_json(tree, 0) + "\n").encode("utf-8", "surrogateescape")
    if fmt == "yaml":
        text = yaml.dump_all(tree, Dumper=_GoYamlDumper, indent=4, sort_keys=False, allow_unicode=True, width=2**31 - 1)
        return text.encode("utf-8", "surrogateescape")
    if fmt == "binary":
        data = tree.get("data") if isinstance(tree, Mapping) else None
        if not isinstance(data, bytes | str):
            raise SopsError("no binary data found in the SOPS tree")
        return data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
    lines = []
    for key, value in tree:
        if key is None:
            lines.append(f"#{value}\n")
        elif isinstance(value, Mapping | list):
            raise SopsError(f"cannot use complex value in dotenv file; offending key {key}")
        else:
            lines.append(f"{key}={_dotenv_value(value)}\n")
    return "".join(lines).encode("utf-8", "surrogateescape")


def _dotenv_value(value: Any) -> str:
    """sops' ValToString for non-strings; strings get their newlines escaped."""
    if isinstance(value, str):
        return value.replace("\n", "\\n")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = _go_float_g(value)
        return text if "." in text or "E" in text or not math.isfinite(value) else f"{value:.1f}"
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return "" if value is None else str(value)


class GoTime(str):
    """A decrypted `time` value: its RFC 3339 text, emitted as a plain YAML timestamp like sops does."""

    __slots__ = ()


class _GoYamlDumper(yaml.SafeDumper):
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
    text = str(value) if isinstance(value, GoTime) else go_time(value)
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", text)


_GoYamlDumper.add_representer(str, _represent_str)
_GoYamlDumper.add_representer(GoTime, _represent_time)
_GoYamlDumper.add_representer(datetime, _represent_time)


def _json(value: Any, depth: int) -> str:
    """encoding/json through sops' JSON store: tab indent, HTML-safe escapes, Go float spelling."""
    if isinstance(value, Mapping):
        items = [f"{_json_str(str(k))}: {_json(v, depth + 1)}" for k, v in value.items()]
        return _json_block("{", items, "}", depth)
    if isinstance(value, list):
        return _json_block("[", [_json(v, depth + 1) for v in value], "]", depth)
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value) if value in _INT64 else _json_float(float(value))
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, bytes):
        return _json_str(base64.b64encode(value).decode())
    if isinstance(value, date):
        return _json_str(go_time(value))
    return _json_str(str(value))


def _json_block(start: str, items: list[str], end: str, depth: int) -> str:
    if not items:
        return start + end
    pad = "\n" + "\t" * (depth + 1)
    return start + pad + ("," + pad).join(items) + "\n" + "\t" * depth + end


def _json_str(text: str) -> str:
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    out = json.dumps(text, ensure_ascii=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        out = out.replace(char, escape)
    return out


def _json_float(value: float) -> str:
    if not math.isfinite(value):
        raise SopsError("cannot emit JSON: a float value is not finite")
    magnitude = abs(value)
    if magnitude and (magnitude < 1e-6 or magnitude >= 1e21):
        return re.sub(r"e-0(\d)$", r"e-\1", repr(value))
    return go_float(value)
