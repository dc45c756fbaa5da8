"""The file formats around SOPS decryption: loading YAML/JSON/dotenv the way sops' Go stores do,
and emitting the decrypted tree the way `sops -d` prints it (Go number, time and JSON spelling).

Used by gotk.kustomize.decrypt.sops; the MAC depends on loading scalars exactly like go-yaml v3 and
encoding/json, which is why YAML is read with gotk.gocompat.yaml3 rather than PyYAML's YAML 1.1 rules.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import yaml

from gotk.gocompat import json as gojson
from gotk.gocompat import strconv, yaml3

__all__ = [
    "MARKERS",
    "SUPPORTED",
    "SopsError",
    "emit",
    "format_for_path",
    "load_dotenv",
    "load_json",
    "load_yaml",
]


class SopsError(Exception):
    """A SOPS document cannot be decrypted or fails its integrity check."""


# Flux's sopsFormatToMarkerBytes; the binary envelope shares JSON's marker and loads the same way.
MARKERS = {"yaml": b"mac: ENC[", "json": b'"mac": "ENC[', "dotenv": b"sops_mac=ENC[", "ini": b"[sops]"}
SUPPORTED = frozenset({"yaml", "json", "dotenv", "binary"})


def format_for_path(path: str) -> str:
    if path.endswith(".dockerconfigjson"):
        return "json"
    for suffix, fmt in ((".yaml", "yaml"), (".yml", "yaml"), (".json", "json"), (".env", "dotenv"), (".ini", "ini")):
        if path.endswith(suffix):
            return fmt
    return "binary"


# -- loading --------------------------------------------------------------------------------------


def load_yaml(data: bytes) -> list[Any]:
    """All documents of a YAML stream (sops keeps one tree branch per document)."""
    try:
        docs = yaml3.load_all(data)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "malformed YAML"
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SopsError(f"failed to load encrypted YAML data: {problem}{where}") from None
    return [{} if doc is None else doc for doc in docs]


def _json_int(text: str) -> int | float:
    number = int(text)
    return number if strconv.INT64_MIN <= number <= strconv.INT64_MAX else float(text)  # sops' normalizeJSONNumber


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
        try:
            text = gojson.marshal_indent(tree)
        except gojson.UnsupportedValueError:
            raise SopsError("cannot emit JSON: a float value is not finite") from None
        return (text + "\n").encode("utf-8", "surrogateescape")
    if fmt == "yaml":
        return yaml3.dump_all(tree).encode("utf-8", "surrogateescape")
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
        text = strconv.format_float(value, "G")
        return text if "." in text or "E" in text or not math.isfinite(value) else f"{value:.1f}"
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return "" if value is None else str(value)
