"""YAML as flux prints it: sigs.k8s.io/yaml over go-yaml v2, reproduced on top of PyYAML's emitter.

Map keys are sorted with go-yaml's natural key order, strings that go-yaml would read back as another
type (`"true"`, `"8080"`, `""`, `"2026-01-01"`) are double quoted, multi-line strings are literal
blocks, sequences are not indented under their key, and long plain lines fold at 80 columns.
Used by `flux create … --export`, `flux create secret … --export` and `flux export`; `load` reads
YAML back the way go-yaml v2 decodes it into interface{} (`flux create helmrelease --values`).
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal
from typing import Any

import yaml

_STR = "tag:yaml.org,2002:str"
_TAGS = {
    "str": _STR,
    "bool": "tag:yaml.org,2002:bool",
    "null": "tag:yaml.org,2002:null",
    "int": "tag:yaml.org,2002:int",
    "float": "tag:yaml.org,2002:float",
    "timestamp": "tag:yaml.org,2002:timestamp",
    "merge": "tag:yaml.org,2002:merge",
}
_WORDS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), "bool"),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), "bool"),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), "null"),
    **dict.fromkeys((".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), "float"),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), "float"),
    "<<": "merge",
}
_GO_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_BASE60_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_TIMESTAMPS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
)
_INT_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


def resolve(value: str) -> str:
    """The type go-yaml v2 gives `value` written as a plain scalar: str, bool, null, int, float, timestamp, merge."""
    if value in _WORDS:
        return _WORDS[value]
    first = value[0]
    if first == ".":
        return "float" if _parses_as_float(value) else "str"
    if not (first.isdigit() and first.isascii()) and first not in "+-":
        return "str"
    if first.isdigit() and _is_timestamp(value):
        return "timestamp"
    plain = value.replace("_", "")
    if _go_int(plain) is not None:
        return "int"
    return "float" if _GO_FLOAT.match(plain) and math.isfinite(float(plain)) else "str"  # overflow: ErrRange


def _parses_as_float(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return "_" not in value and value.lower().lstrip("+-") not in ("inf", "nan", "infinity")


def _is_timestamp(value: str) -> bool:
    for pattern in _TIMESTAMPS:
        match = pattern.match(value)
        if match:
            month, day = int(match.group(2)), int(match.group(3))
            if not (1 <= month <= 12 and 1 <= day <= 31):
                return False
            if match.lastindex and match.lastindex >= 6:
                hour, minute, second = (int(match.group(i)) for i in (4, 5, 6))
                return hour < 24 and minute < 60 and second < 60
            return True
    return False


def _go_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), else ParseUint: decimal, 0x, 0o, 0b or leading-0 octal; None if neither."""
    body = text[1:] if text[:1] in "+-" else text
    base = {"0x": 16, "0o": 8, "0b": 2}.get(body[:2].lower(), 0)
    if base:
        body = body[2:]
    elif body.startswith("0") and len(body) > 1:
        base, body = 8, body[1:]
    else:
        base = 10
    if not body or any(c not in _INT_DIGITS[base] for c in body):
        return None
    number = int(body, base)
    return None if number >= 1 << 64 else -number if text[:1] == "-" else number


def needs_quotes(value: str) -> bool:
    """go-yaml writes this string double quoted: it would read back as something else."""
    return resolve(value) != "str" or bool(_BASE60_FLOAT.match(value))


def go_float(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 64) with go-yaml's names for infinities and NaN."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + exponent  # position of the decimal point
    exp10 = point - 1
    prefix = "-" if sign else ""
    if text == "0":
        return prefix + "0"
    if exp10 < -4 or exp10 >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return prefix + text + "0" * (point - len(text))
    return f"{prefix}{text[:point]}.{text[point:]}"


def _key_less(a: str, b: str) -> bool:
    """go-yaml v2's keyList.Less for string keys: letters after other runes, digit runs numerically."""
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            continue
        a_letter, b_letter = a[i].isalpha(), b[i].isalpha()
        if a_letter and b_letter:
            return a[i] < b[i]
        if a_letter or b_letter:
            return b_letter
        a_num = b_num = 0
        if a[i] == "0" or b[i] == "0":
            j = i - 1
            while j >= 0 and a[j].isdigit():
                if a[j] != "0":
                    a_num = b_num = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and a[ai].isdigit():
            a_num = a_num * 10 + int(a[ai])
            ai += 1
        bi = i
        while bi < len(b) and b[bi].isdigit():
            b_num = b_num * 10 + int(b[bi])
            bi += 1
        if a_num != b_num:
            return a_num < b_num
        if ai != bi:
            return ai < bi
        return a[i] < b[i]
    return len(a) < len(b)


def _key_cmp(a: tuple[Any, Any], b: tuple[Any, Any]) -> int:
    x, y = str(a[0]), str(b[0])
    if _key_less(x, y):
        return -1
    return 1 if _key_less(y, x) else 0


class _Dumper(yaml.SafeDumper):
    """PyYAML's emitter with go-yaml's implicit typing, quoting and key order."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode:
            return _TAGS[resolve(value)] if implicit[0] else _STR
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


def _represent_str(dumper: _Dumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else '"' if needs_quotes(data) else None
    return dumper.represent_scalar(_STR, data, style=style)


def _represent_dict(dumper: _Dumper, data: dict[Any, Any]) -> yaml.Node:
    items = sorted(data.items(), key=functools.cmp_to_key(_key_cmp))
    return dumper.represent_mapping("tag:yaml.org,2002:map", items)


def _represent_float(dumper: _Dumper, data: float) -> yaml.Node:
    text = go_float(data)
    return dumper.represent_scalar(_TAGS[resolve(text)], text)  # untagged, as go-yaml writes it


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(float, _represent_float)


def dump(obj: Any) -> str:
    """One YAML document (no `---`), ending with a newline, as sigs.k8s.io/yaml.Marshal writes it."""
    return yaml.dump(obj, Dumper=_Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True, width=80)


# -- loading ---------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """go-yaml v2 decoding into interface{}: its implicit types for plain scalars, timestamps kept as strings."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode:
            found = resolve(value) if implicit[0] else "str"
            return _STR if found == "timestamp" else _TAGS[found]
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


def _scalar(loader: _Loader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node))
    if node.tag == _TAGS["null"]:
        return None
    if node.tag == _TAGS["bool"]:
        return text.lower() in ("y", "yes", "true", "on")
    if node.tag == _TAGS["int"] and (number := _go_int(text.replace("_", ""))) is not None:
        return number
    special = {".nan": math.nan, ".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf}
    try:
        return special.get(text.lower()) or float(text.replace("_", ""))
    except ValueError:
        problem = f"cannot decode {text!r} as {node.tag}"
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


for _tag in ("null", "bool", "int", "float"):
    _Loader.add_constructor(_TAGS[_tag], _scalar)


def load(text: str | bytes) -> Any:
    """The first YAML document of `text` as go-yaml v2 reads it into interface{} (None when empty).

    Raises yaml.YAMLError on invalid YAML (see `error_message`)."""
    return next(iter(yaml.load_all(text, Loader=_Loader)), None)


def error_message(exc: yaml.YAMLError) -> str:
    """A PyYAML error on one line in go-yaml's shape: `yaml: line N: problem`."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        return f"yaml: line {mark.line + 1}: {exc.problem}" if mark is not None else f"yaml: {exc.problem}"
    return f"yaml: {exc}"
