"""Go's encoding/json output: json.Marshal's compact form and json.MarshalIndent's layout with a tab indent,
HTML-safe string escapes, float64 spelling, []byte as base64 and time.Time as RFC 3339; and its error for NaN and
infinities.

Used by SOPS decryption (sops' JSON store writes through encoding/json) and by gotk.gocompat.yaml.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from gotk.gocompat import strconv, times

__all__ = ["UnsupportedValueError", "format_float", "marshal", "marshal_indent", "quote"]

_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


class UnsupportedValueError(ValueError):
    """encoding/json refuses NaN and the infinities: ``json: unsupported value: NaN`` (or ``+Inf``, ``-Inf``)."""

    def __init__(self, value: float) -> None:
        super().__init__(f"json: unsupported value: {strconv.format_float(value)}")
        self.value = value


def marshal_indent(value: Any) -> str:
    """json.MarshalIndent(value, "", "\\t") for JSON-like Python values (no trailing newline).

    Integers outside int64 are written as the float64 Go would hold; bytes as base64, dates as time.Time
    text; anything else as its string. Raises UnsupportedValueError for NaN and infinities.
    """
    return _encode(value, 0)


def marshal(value: Any) -> str:
    """json.Marshal(value): compact, keys in the mapping's order (a Go map's are sorted: sort them first)."""
    return _encode(value, -1)


def _encode(value: Any, depth: int) -> str:
    if isinstance(value, Mapping):
        if depth < 0:
            return "{" + ",".join(f"{quote(str(k))}:{_encode(v, -1)}" for k, v in value.items()) + "}"
        items = [f"{quote(str(k))}: {_encode(v, depth + 1)}" for k, v in value.items()]
        return _block("{", items, "}", depth)
    if isinstance(value, list):
        if depth < 0:
            return "[" + ",".join(_encode(v, -1) for v in value) + "]"
        return _block("[", [_encode(v, depth + 1) for v in value], "]", depth)
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value) if strconv.INT64_MIN <= value <= strconv.INT64_MAX else format_float(float(value))
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, bytes):
        return quote(base64.b64encode(value).decode())
    if isinstance(value, date):
        return quote(times.format_rfc3339nano(value))
    return quote(str(value))


def _block(start: str, items: list[str], end: str, depth: int) -> str:
    if not items:
        return start + end
    pad = "\n" + "\t" * (depth + 1)
    return start + pad + ("," + pad).join(items) + "\n" + "\t" * depth + end


def quote(text: str) -> str:
    """A JSON string as encoding/json writes it: HTML-safe, invalid UTF-8 (surrogate escapes) as U+FFFD."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    out = json.dumps(text, ensure_ascii=False)
    for char, escape in _ESCAPES:
        out = out.replace(char, escape)
    return out


def format_float(value: float) -> str:
    """A float64 as encoding/json writes it: %f digits, or %e below 1e-6 and from 1e21 (``1e-7``, not ``1e-07``)."""
    if not math.isfinite(value):
        raise UnsupportedValueError(value)
    magnitude = abs(value)
    if magnitude and (magnitude < 1e-6 or magnitude >= 1e21):
        text = strconv.format_float(value, "e")
        return text[:-2] + text[-1] if text[-4:-1] == "e-0" else text  # encoding/json trims e-09 to e-9
    return strconv.format_float(value, "f")
