"""go-yaml v2 as sigs.k8s.io/yaml uses it, on top of PyYAML: resolving plain scalars, writing and reading YAML.

`scalar` and `resolve` are go-yaml v2's plain-scalar rules (``y`` is true, ``0o17`` an int, ``1:20`` a string).
`dump` writes one document as sigs.k8s.io/yaml.Marshal does: go-yaml's natural key order, double quotes for
strings that would read back as another type, literal blocks, unindented sequences, lines folded at 80 columns
(`flux create … --export`, `flux export`). `load` reads a document as yaml.Unmarshal into interface{} does
(`flux create helmrelease --values`); `to_json` is YAMLToJSON followed by JSON decoding into an unstructured
object, the round trip Flux's postBuild substitution makes. See gotk.gocompat.yaml3 for go-yaml v3.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal
from typing import Any

import yaml

from gotk.gocompat import json as gojson
from gotk.gocompat import strconv

__all__ = [
    "TAG",
    "CLoader",
    "Loader",
    "Resolver",
    "dump",
    "error_message",
    "go_float",
    "json_key",
    "json_values",
    "load",
    "needs_quotes",
    "problem_line",
    "resolve",
    "scalar",
    "to_json",
]

TAG = "tag:yaml.org,2002:"
"""The prefix of YAML's standard tags; go-yaml's short form is ``!!``."""
_STR = TAG + "str"

_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_BOOLS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")  # resolve.go's yamlStyleFloat
_DIGIT_SEPARATOR = re.compile(r"(?<=[0-9])_(?=[0-9])")
_BASE60_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_TIMESTAMPS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
)


# -- resolving plain scalars (resolve.go) -----------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def scalar(text: str) -> tuple[str, Any]:
    """(tag suffix, value) that go-yaml v2 gives a plain scalar when decoding into interface{}: str, null,
    bool, int, float or merge. Timestamps stay strings there, as go-yaml v2 keeps them for interface{}."""
    if text in _NULLS:
        return "null", None
    if text in _BOOLS:
        return "bool", _BOOLS[text]
    if text in _SPECIAL_FLOATS:
        return "float", _SPECIAL_FLOATS[text]
    if text == "<<":
        return "merge", text
    if text[0] == ".":
        plain = _DIGIT_SEPARATOR.sub("", text)  # Go's ParseFloat takes "_" between digits
    elif text[0] in "+-0123456789":
        plain = text.replace("_", "")
        number = strconv.parse_int(plain)
        if number is not None:
            return "int", number
    else:
        return "str", text
    if _FLOAT.fullmatch(plain) and math.isfinite(real := float(plain)):  # overflow is an error in Go
        return "float", real
    return "str", text


def resolve(value: str) -> str:
    """The type go-yaml v2 gives `value` written as a plain scalar: str, bool, null, int, float, timestamp, merge."""
    if value[:1].isdigit() and value[0].isascii() and _is_timestamp(value):
        return "timestamp"
    return scalar(value)[0]


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
    return _yaml_float(strconv.format_float(value, "g"))


def _yaml_float(text: str) -> str:
    return {"NaN": ".nan", "+Inf": ".inf", "-Inf": "-.inf"}.get(text, text)


class Resolver:
    """Tags for nodes without explicit ones, as go-yaml v2 decodes into interface{}: its rules for plain
    scalars (timestamps are strings), str for quoted ones. A mixin for PyYAML loaders and dumpers."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return TAG + (scalar(value)[0] if implicit[0] else "str")
        return TAG + ("seq" if kind is yaml.SequenceNode else "map")


# -- writing (sigs.k8s.io/yaml.Marshal) ---------------------------------------------------------------


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
            return TAG + resolve(value) if implicit[0] else _STR
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


def _represent_str(dumper: _Dumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else '"' if needs_quotes(data) else None
    return dumper.represent_scalar(_STR, data, style=style)


def _represent_dict(dumper: _Dumper, data: dict[Any, Any]) -> yaml.Node:
    items = sorted(data.items(), key=functools.cmp_to_key(_key_cmp))
    return dumper.represent_mapping(TAG + "map", items)


def _represent_float(dumper: _Dumper, data: float) -> yaml.Node:
    text = go_float(data)
    return dumper.represent_scalar(TAG + resolve(text), text)  # untagged, as go-yaml writes it


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(float, _represent_float)


class _SortedDumper(_Dumper):
    """The same writer for a yaml.MapSlice whose keys were sorted as plain strings (byte order)."""


def _represent_sorted_dict(dumper: _Dumper, data: dict[Any, Any]) -> yaml.Node:
    return dumper.represent_mapping(TAG + "map", sorted(data.items(), key=lambda item: str(item[0])))


_SortedDumper.add_representer(dict, _represent_sorted_dict)


def dump(obj: Any, *, byte_order: bool = False) -> str:
    """One YAML document (no `---`), ending with a newline, as sigs.k8s.io/yaml.Marshal writes it; with
    `byte_order`, map keys in plain string order instead of go-yaml's natural one (a MapSlice sorted by key, as
    fluxcd/pkg/chartutil encodes values for their digest)."""
    dumper = _SortedDumper if byte_order else _Dumper
    return yaml.dump(obj, Dumper=dumper, default_flow_style=False, sort_keys=False, allow_unicode=True, width=80)


# -- reading (yaml.Unmarshal into interface{}) ----------------------------------------------------------


class Loader(Resolver, yaml.SafeLoader):
    """go-yaml v2's decoding into interface{} on PyYAML's Python parser (its error messages)."""


class CLoader(Resolver, yaml.CSafeLoader):
    """The same decoding on libyaml's parser: faster, and libyaml's wording of syntax errors."""


def _construct(tag: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        found, value = scalar(loader.construct_scalar(node))
        if found == tag:
            return value
        if {found, tag} == {"int", "float"}:
            return float(value)
        raise yaml.constructor.ConstructorError(None, None, f"cannot decode !!{found} as !!{tag}", node.start_mark)

    return construct


def _construct_unknown(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """go-yaml v2 ignores tags it does not know: the node is read as if it had none."""
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


for _loader in (Loader, CLoader):
    for _tag in ("null", "bool", "int", "float"):
        _loader.add_constructor(TAG + _tag, _construct(_tag))
    _loader.add_constructor(None, _construct_unknown)


def load(text: str | bytes) -> Any:
    """The first YAML document of `text` as go-yaml v2 reads it into interface{} (None when empty).

    Raises yaml.YAMLError on invalid YAML (see `error_message`)."""
    return next(iter(yaml.load_all(text, Loader=Loader)), None)


def problem_line(exc: BaseException) -> str | None:
    """A PyYAML error with a problem on one line in go-yaml's shape, ``yaml: line N: problem``; else None."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        return f"yaml: line {mark.line + 1}: {exc.problem}" if mark is not None else f"yaml: {exc.problem}"
    return None


def error_message(exc: yaml.YAMLError) -> str:
    """A PyYAML error on one line in go-yaml's shape: `yaml: line N: problem`."""
    return problem_line(exc) or f"yaml: {exc}"


# -- YAMLToJSON, then JSON into an unstructured object -------------------------------------------------


def to_json(text: str) -> Any:
    """The single document of `text` through sigs.k8s.io/yaml.YAMLToJSON and back from JSON as Kubernetes'
    unstructured decoding reads it (see `json_values`); None when empty. Read with libyaml.

    Raises yaml.YAMLError for invalid YAML and ValueError (or TypeError, RecursionError) for what JSON cannot
    hold, such as NaN or a uint64 map key.
    """
    try:
        node = yaml.compose(text, Loader=CLoader)
        return None if node is None else _from_node(node, set())
    except _Fallback:
        return json_values(yaml.load(text, Loader=CLoader))


class _Fallback(Exception):
    """The document has aliases, merge keys or explicit tags: leave it to PyYAML's constructor."""


_IMPLICIT = frozenset(TAG + tag for tag in ("null", "bool", "int", "float"))


def _scalar(node: yaml.Node) -> Any:
    if node.tag == _STR:
        return node.value
    if node.tag not in _IMPLICIT:
        raise _Fallback
    tag, value = scalar(node.value)
    if TAG + tag != node.tag:
        raise _Fallback
    return value


def _from_node(node: yaml.Node, seen: set[int]) -> Any:
    """Composed nodes straight to JSON values: the common case, twice as fast as constructing."""
    if isinstance(node, yaml.ScalarNode):
        return json_values(_scalar(node))
    if id(node) in seen:  # an alias
        raise _Fallback
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode) and node.tag == TAG + "seq":
        return [_from_node(item, seen) for item in node.value]
    if not isinstance(node, yaml.MappingNode) or node.tag != TAG + "map":
        raise _Fallback
    mapping = {}
    for key, item in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _Fallback
        mapping[json_key(_scalar(key))] = _from_node(item, seen)
    return mapping


def json_values(value: Any) -> Any:
    """What Flux's YAML -> JSON -> object trip makes of a value: string keys, floats that print as integers
    (Go prints the shortest digits) as ints, integers beyond int64 as floats; NaN and infinities fail."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if strconv.INT64_MIN <= value <= strconv.INT64_MAX else float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise gojson.UnsupportedValueError(value)
        printed = int(Decimal(repr(value))) if value.is_integer() else None
        return printed if printed is not None and strconv.INT64_MIN <= printed <= strconv.INT64_MAX else value
    if isinstance(value, dict):
        return {json_key(key): json_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_values(item) for item in value]
    raise ValueError(f"unsupported value of type {type(value).__name__}")


def json_key(key: Any) -> str:
    """sigs.k8s.io/yaml's key conversion: Go's integer text, float32 ``%g`` text for floats."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int) and strconv.INT64_MIN <= key <= strconv.INT64_MAX:
        return str(key)
    if isinstance(key, int) and 0 < key < strconv.UINT64_END:
        raise ValueError(f"unsupported map key of type: uint64, key: {key:#x}")
    if isinstance(key, int | float):
        return _yaml_float(strconv.format_float(float(key), "g", bits=32))
    raise ValueError(f"unsupported map key of type: {type(key).__name__}, key: {key!r}")
