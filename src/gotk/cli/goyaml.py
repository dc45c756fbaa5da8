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

from gotk.kustomize import varsub

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
_BASE60_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_TIMESTAMPS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
)


def resolve(value: str) -> str:
    """The type go-yaml v2 gives `value` written as a plain scalar: str, bool, null, int, float, timestamp, merge."""
    if value[:1].isdigit() and value[0].isascii() and _is_timestamp(value):
        return "timestamp"
    return varsub._go_scalar(value)[0]


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


class _Loader(varsub._GoResolver, yaml.SafeLoader):
    """go-yaml v2 decoding into interface{}: its implicit types for plain scalars, timestamps kept as strings."""


for _tag in ("null", "bool", "int", "float"):
    _Loader.add_constructor(_TAGS[_tag], varsub._construct(_tag))
_Loader.add_constructor(None, varsub._construct_unknown)


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
