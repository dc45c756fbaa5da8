"""postBuild variable substitution for a Kustomization's built objects, as Flux's kustomize_varsub.go does it.

Pure: the reconciler resolves ``substituteFrom`` ConfigMaps/Secrets and passes their decoded data in. This
module merges and validates the variables, then runs gotk.kustomize.envsubst over each object's YAML text
and reads it back with go-yaml v2's scalar rules (``y`` is true, ``1:20`` a string) and JSON's number rules.
"""

from __future__ import annotations

import functools
import math
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import yaml

from gotk.kustomize.envsubst import SubstitutionError, envsubst

__all__ = [
    "DISABLED_VALUE",
    "SUBSTITUTE_ANNOTATION",
    "VAR_NAME_PATTERN",
    "InvalidVariableNameError",
    "ObjectSubstitutionError",
    "SubstituteStrategy",
    "SubstitutionError",
    "merge_variables",
    "substitute_objects",
    "validate_names",
]

SUBSTITUTE_ANNOTATION = "kustomize.toolkit.fluxcd.io/substitute"
"""Label or annotation key; the exact value ``disabled`` exempts an object from substitution."""
DISABLED_VALUE = "disabled"
VAR_NAME_PATTERN = "^[_[:alpha:]][_[:alpha:][:digit:]]*$"
"""Flux's pattern for variable names, as it appears in error messages (POSIX classes are ASCII in Go)."""

SubstituteStrategy = Literal["WithVariables", "Always"]
"""``WithVariables`` (the default) substitutes only when at least one variable is set; ``Always`` always does,
so that expressions with defaults such as ``${var:=x}`` are expanded with no variables at all."""

_VAR_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_NEEDS_SUBSTITUTION = re.compile(r"\$[{$]")  # "$$" collapses to "$" even without any "${"
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class InvalidVariableNameError(SubstitutionError):
    """A variable name does not match VAR_NAME_PATTERN."""

    def __init__(self, name: str, origin: str | None = None) -> None:
        message = f"'{name}' var name is invalid, must match '{VAR_NAME_PATTERN}'"
        super().__init__(f"{message} (from {origin})" if origin else message, variable=name)
        self.origin = origin


class ObjectSubstitutionError(SubstitutionError):
    """Substitution failed for one object; the message is the one Flux puts in the BuildFailed condition."""

    def __init__(self, obj: Mapping[str, Any], detail: str, *, variable: str | None = None) -> None:
        api_version, self.kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
        metadata = obj.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        self.namespace, self.name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
        group, _, version = api_version.partition("/") if "/" in api_version else ("", "", api_version)
        gvk = f"{self.kind or '[noKind]'}.{version or '[noVer]'}.{group or '[noGrp]'}"
        super().__init__(f"post build failed for '{gvk}/{self.name}': {detail}", variable=variable)
        self.detail = detail

    @property
    def object_ref(self) -> str:
        """``Kind/namespace/name``."""
        return f"{self.kind}/{self.namespace}/{self.name}"


def validate_names(variables: Iterable[str], *, origin: str | None = None) -> None:
    """Raise InvalidVariableNameError for the first name Flux would refuse; ``origin`` (say
    ``ConfigMap/cluster-vars``) is added to the message when given."""
    for name in variables:
        if _VAR_NAME.fullmatch(name) is None:
            raise InvalidVariableNameError(name, origin)


def merge_variables(
    substitute: Mapping[str, str] | None, sources: Iterable[Mapping[str, str] | tuple[str, Mapping[str, str]]]
) -> dict[str, str]:
    """Merge ``substituteFrom`` data in list order (later entries win), then the inline ``substitute`` map,
    which wins over all of them. As in Flux, newlines are removed from every value.

    A source may be given as ``(origin, data)``; the origin is informational only. Names are not validated
    here: Flux does that when it substitutes (see substitute_objects), and so does this module.
    """
    merged: dict[str, str] = {}
    for source in [*sources, substitute or {}]:
        data = source[1] if isinstance(source, tuple) else source
        merged.update((name, value.replace("\n", "")) for name, value in data.items())
    return merged


def substitute_objects(
    objects: Sequence[dict[str, Any]],
    variables: Mapping[str, str],
    *,
    strict: bool,
    strategy: SubstituteStrategy = "WithVariables",
) -> list[dict[str, Any]]:
    """Substitute ``variables`` into every object not labelled or annotated ``substitute: disabled``.

    Call it only when the Kustomization has ``spec.postBuild``. ``strict`` is the StrictPostBuildSubstitutions
    feature gate (on by default in Flux): an unset variable without a default fails the build. Objects are
    never mutated; those left unchanged come back as the same dicts. Raises ObjectSubstitutionError naming the object.
    """
    if not variables and strategy != "Always":
        return list(objects)
    bad_name = next((name for name in variables if _VAR_NAME.fullmatch(name) is None), None)
    result: list[dict[str, Any]] = []
    for obj in objects:
        if _is_disabled(obj):
            result.append(obj)
            continue
        if bad_name is not None:  # Flux checks names per object, so the first eligible object reports it
            raise ObjectSubstitutionError(obj, f"envsubst error: {InvalidVariableNameError(bad_name)}")
        result.append(_substitute_one(obj, variables, strict) if _mentions_dollar(obj) else obj)
    return result


def _is_disabled(obj: Mapping[str, Any]) -> bool:
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return False
    for field in ("labels", "annotations"):
        values = metadata.get(field)
        if isinstance(values, Mapping) and values.get(SUBSTITUTE_ANNOTATION) == DISABLED_VALUE:
            return True
    return False


def _mentions_dollar(value: Any) -> bool:
    """Cheap pre-check before dumping: could the object's YAML text contain ``${`` or ``$$``?"""
    if isinstance(value, str):
        return "$" in value
    if isinstance(value, dict):
        return any(_mentions_dollar(key) or _mentions_dollar(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_mentions_dollar(item) for item in value)
    return False


def _substitute_one(obj: dict[str, Any], variables: Mapping[str, str], strict: bool) -> dict[str, Any]:
    try:
        text = yaml.dump(obj, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False)
    except yaml.YAMLError as exc:
        raise ObjectSubstitutionError(obj, f"envsubst error: {exc}") from exc
    if _NEEDS_SUBSTITUTION.search(text) is None:
        return obj
    try:
        output = envsubst(text, variables, strict=strict)
    except SubstitutionError as exc:
        raise ObjectSubstitutionError(
            obj, f"envsubst error: variable substitution failed: {exc}", variable=exc.variable
        ) from exc
    if output == text:
        return obj
    try:
        try:
            node = yaml.compose(output, Loader=_Loader)
            loaded = None if node is None else _from_node(node, set())
        except _Fallback:
            loaded = _to_json_values(yaml.load(output, Loader=_Loader))
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise ObjectSubstitutionError(obj, f"envsubst error: YAMLToJSON: {_yaml_message(exc)}") from exc
    if not isinstance(loaded, dict):
        detail = f"envsubst error: UnmarshalJSON: expected an object, got {type(loaded).__name__}"
        raise ObjectSubstitutionError(obj, detail)
    return loaded


def _yaml_message(exc: Exception) -> str:
    """One line in go-yaml's style (``yaml: line N: problem``) instead of PyYAML's multi-line report."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        return f"yaml: line {mark.line + 1}: {exc.problem}" if mark is not None else f"yaml: {exc.problem}"
    return str(exc)


# --- go-yaml v2 scalar resolution, shared by the dumper (what needs quotes) and the loader --------------

_GO_BOOLS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_GO_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_GO_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_GO_INT = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]*)|([1-9][0-9]*))")
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DIGIT_SEPARATOR = re.compile(r"(?<=[0-9])_(?=[0-9])")
_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"


@functools.lru_cache(maxsize=4096)
def _go_scalar(text: str) -> tuple[str, Any]:
    """(tag suffix, value) that go-yaml v2 gives a plain scalar when decoding into interface{}."""
    if text in _GO_NULLS:
        return "null", None
    if text in _GO_BOOLS:
        return "bool", _GO_BOOLS[text]
    if text in _GO_SPECIAL_FLOATS:
        return "float", _GO_SPECIAL_FLOATS[text]
    if text == "<<":
        return "merge", text
    if text[0] == ".":
        plain = _DIGIT_SEPARATOR.sub("", text)  # Go's ParseFloat takes "_" between digits
    elif text[0] in "+-0123456789":  # timestamps (dddd-...) stay strings when decoding into interface{}
        plain = text.replace("_", "")
        match = _GO_INT.fullmatch(plain)
        if match is not None:
            sign, hexa, octal, binary, zero_octal, decimal = match.groups()
            choices = ((hexa, 16), (octal, 8), (binary, 2), (decimal, 10), (f"0{zero_octal}", 8))
            digits, base = next((digits, base) for digits, base in choices if digits)
            number = int(sign + digits, base)
            if _INT64_MIN <= number <= _INT64_MAX or (0 < number < 1 << 64 and not sign):  # ParseInt, ParseUint
                return "int", number
    else:
        return "str", text
    if _GO_FLOAT.fullmatch(plain) and math.isfinite(real := float(plain)):  # overflow is an error in Go
        return "float", real
    return "str", text


class _GoResolver:
    """Tags for nodes without explicit ones: go-yaml v2's for plain scalars, str for quoted ones."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return _TAG + (_go_scalar(value)[0] if implicit[0] else "str")
        return _TAG + ("seq" if kind is yaml.SequenceNode else "map")


class _Dumper(_GoResolver, yaml.CSafeDumper):
    """Block style, no anchors, multi-line strings as literal blocks: as go-yaml v2 writes JSON data."""

    def represent_data(self, data: Any) -> yaml.Node:
        if isinstance(data, str):
            return yaml.ScalarNode(_STR, data, style="|" if "\n" in data else None)
        if isinstance(data, dict):
            items = [(self.represent_data(key), self.represent_data(item)) for key, item in data.items()]
            return yaml.MappingNode(_TAG + "map", items, flow_style=False)
        if isinstance(data, list):
            return yaml.SequenceNode(_TAG + "seq", [self.represent_data(item) for item in data], flow_style=False)
        return super().represent_data(data)


class _Loader(_GoResolver, yaml.CSafeLoader):
    """go-yaml v2's scalar rules; timestamps stay strings."""


def _construct(tag: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        found, value = _go_scalar(loader.construct_scalar(node))
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


for _tag in ("null", "bool", "int", "float"):
    _Loader.add_constructor(_TAG + _tag, _construct(_tag))
_Loader.add_constructor(None, _construct_unknown)


class _Fallback(Exception):
    """The document has aliases, merge keys or explicit tags: leave it to PyYAML's constructor."""


_IMPLICIT = frozenset(_TAG + tag for tag in ("null", "bool", "int", "float"))


def _scalar(node: yaml.Node) -> Any:
    if node.tag == _STR:
        return node.value
    if node.tag not in _IMPLICIT:
        raise _Fallback
    tag, value = _go_scalar(node.value)
    if _TAG + tag != node.tag:
        raise _Fallback
    return value


def _from_node(node: yaml.Node, seen: set[int]) -> Any:
    """Composed nodes straight to JSON values: the common case, twice as fast as constructing."""
    if isinstance(node, yaml.ScalarNode):
        return _to_json_values(_scalar(node))
    if id(node) in seen:  # an alias
        raise _Fallback
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode) and node.tag == _TAG + "seq":
        return [_from_node(item, seen) for item in node.value]
    if not isinstance(node, yaml.MappingNode) or node.tag != _TAG + "map":
        raise _Fallback
    mapping = {}
    for key, item in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _Fallback
        mapping[_json_key(_scalar(key))] = _from_node(item, seen)
    return mapping


def _to_json_values(value: Any) -> Any:
    """What Flux's YAML -> JSON -> object trip makes of a value: string keys, floats that print as integers
    (Go prints the shortest digits) as ints, integers beyond int64 as floats; NaN and infinities fail."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _INT64_MAX else float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"json: unsupported value: {'NaN' if math.isnan(value) else f'{value:+}'.title()}")
        printed = int(Decimal(repr(value))) if value.is_integer() else None
        return printed if printed is not None and _INT64_MIN <= printed <= _INT64_MAX else value
    if isinstance(value, dict):
        return {_json_key(key): _to_json_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_json_values(item) for item in value]
    raise ValueError(f"unsupported value of type {type(value).__name__}")


def _json_key(key: Any) -> str:
    """sigs.k8s.io/yaml's key conversion: Go's integer text, float32 ``%g`` text for floats."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int) and _INT64_MIN <= key <= _INT64_MAX:
        return str(key)
    if isinstance(key, int) and 0 < key < 1 << 64:
        raise ValueError(f"unsupported map key of type: uint64, key: {key:#x}")
    if isinstance(key, int | float):
        return _float32_text(float(key))
    raise ValueError(f"unsupported map key of type: {type(key).__name__}, key: {key!r}")


def _float32_text(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 32), spelling NaN and infinities as YAML does."""
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        single = math.copysign(math.inf, value)
    if not math.isfinite(single):
        return ".nan" if math.isnan(single) else ".inf" if single > 0 else "-.inf"
    if single == 0:
        return "-0" if math.copysign(1, single) < 0 else "0"
    for precision in range(9):  # the shortest digits that read back as the same float32
        mantissa, _, exponent = f"{abs(single):.{precision}e}".partition("e")
        if struct.unpack("f", struct.pack("f", float(f"{mantissa}e{exponent}")))[0] == abs(single):
            break
    digits, point = mantissa.replace(".", ""), int(exponent) + 1
    sign = "-" if single < 0 else ""
    if not -4 <= point - 1 < 6:
        return f"{sign}{digits[0]}{'.' if len(digits) > 1 else ''}{digits[1:]}e{point - 1:+03d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    return f"{sign}{digits[:point]}{'0' * (point - len(digits))}{'.' if point < len(digits) else ''}{digits[point:]}"
