"""Marker vocabulary for the typed API models that the CRDs are generated from.

A model is a keyword-only dataclass. A field's Python type gives its JSON shape (str, bool, int, float,
Literal[...] for enums, list[T], dict[str, T], another model); `T | None` makes it optional and anything
else is required. typing.Annotated markers add OpenAPI constraints; `object_markers` attaches markers
(defaults, CEL rules) to a whole model. crdgen.py turns models into OpenAPI v3 schemas.

Caveat: typing caches `X | None` by equality, and Literal equality ignores order, so two optional enums
with the same values in a different order share the order of whichever was built first. Where the
order differs from an existing enum, wrap the Literal in its own Annotated with a distinct marker.
"""

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeAlias, TypeGuard, TypeVar, Union


@dataclass(frozen=True)
class Pattern:
    """The string must match this regular expression (ECMA 262 dialect, as the API server checks it)."""

    regex: str


@dataclass(frozen=True)
class Default:
    """The API server fills in this value when the field is absent."""

    value: Any


@dataclass(frozen=True)
class Fallback:
    """The controller's value when the field is absent, where Flux's CRD sets no default (so neither does ours).

    crdgen leaves it out of the schema; `gotk.api.defaults` reads it, beside `Default`, for the reconcilers.
    """

    value: Any


@dataclass(frozen=True)
class Minimum:
    """The number must be at least this."""

    value: int


@dataclass(frozen=True)
class Maximum:
    """The number must be at most this."""

    value: int


@dataclass(frozen=True)
class MinLength:
    """The string must have at least this many characters."""

    value: int


@dataclass(frozen=True)
class MaxLength:
    """The string must have at most this many characters."""

    value: int


@dataclass(frozen=True)
class MinItems:
    """The list must have at least this many items."""

    value: int


@dataclass(frozen=True)
class MaxItems:
    """The list must have at most this many items."""

    value: int


@dataclass(frozen=True)
class Format:
    """OpenAPI format, e.g. `date-time` or `int64`."""

    name: str


@dataclass(frozen=True)
class Description:
    """Text shown by `kubectl explain`; a model's docstring describes it when the field has none."""

    text: str


@dataclass(frozen=True)
class JsonName:
    """Overrides the JSON name derived from the attribute (snake_case becomes camelCase)."""

    name: str


@dataclass(frozen=True)
class Validation:
    """A CEL rule the API server evaluates (x-kubernetes-validations)."""

    rule: str
    message: str


@dataclass(frozen=True)
class ListType:
    """x-kubernetes-list-type, with the key fields when the list is a map."""

    kind: Literal["atomic", "set", "map"]
    map_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class MapType:
    """x-kubernetes-map-type."""

    kind: Literal["atomic", "granular"]


@dataclass(frozen=True)
class PreserveUnknownFields:
    """Free-form JSON: the API server keeps whatever is there (x-kubernetes-preserve-unknown-fields)."""


@dataclass(frozen=True)
class XIntOrString:
    """The value is an integer or a string (x-kubernetes-int-or-string)."""


Marker: TypeAlias = (
    Pattern
    | Default
    | Fallback
    | Minimum
    | Maximum
    | MinLength
    | MaxLength
    | MinItems
    | MaxItems
    | Format
    | Description
    | JsonName
    | Validation
    | ListType
    | MapType
    | PreserveUnknownFields
    | XIntOrString
)
MARKER_TYPES: tuple[type, ...] = typing.get_args(Marker)


def is_marker(value: object) -> TypeGuard[Marker]:
    return isinstance(value, MARKER_TYPES)


JSON: TypeAlias = Annotated[Any, PreserveUnknownFields()]
"""Any JSON value, kept as written (e.g. HelmRelease `spec.values`)."""
IntOrString: TypeAlias = Annotated[int | str, XIntOrString()]
Int64: TypeAlias = Annotated[int, Format("int64")]
DateTime: TypeAlias = Annotated[str, Format("date-time")]
"""An RFC 3339 timestamp, as metav1.Time serialises."""

ModelT = TypeVar("ModelT", bound=type)
_OBJECT_MARKERS = "__gotk_schema_markers__"


def object_markers(*markers: Marker) -> Callable[[ModelT], ModelT]:
    """Class decorator: markers that apply to the model wherever it is used (defaults, CEL rules)."""

    def attach(model: ModelT) -> ModelT:
        setattr(model, _OBJECT_MARKERS, markers)
        return model

    return attach


def markers_of(model: type) -> tuple[Marker, ...]:
    """The markers `object_markers` attached to this model (not inherited)."""
    found: tuple[Marker, ...] = model.__dict__.get(_OBJECT_MARKERS, ())
    return found


def is_model(tp: object) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def doc_of(model: type) -> str | None:
    """The model's own docstring, or None when dataclass made one up from the signature."""
    doc = model.__dict__.get("__doc__")
    if not doc or doc.startswith(model.__name__ + "("):
        return None
    return " ".join(doc.split())


def unwrap(tp: Any) -> tuple[Any, bool, tuple[Marker, ...]]:
    """Strip Annotated and `| None` layers: returns (bare type, optional, markers outermost first)."""
    markers: list[Marker] = []
    optional = False
    while True:
        if typing.get_origin(tp) is Annotated:
            markers.extend(m for m in tp.__metadata__ if is_marker(m))
            tp = tp.__origin__
            continue
        if typing.get_origin(tp) in (Union, types.UnionType):
            args = typing.get_args(tp)
            rest = [a for a in args if a is not type(None)]
            if len(rest) < len(args):
                optional = True
                tp = rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007
                continue
        return tp, optional, tuple(markers)


def json_name(attr: str) -> str:
    """snake_case attribute to the camelCase JSON name (`last_update_time` → `lastUpdateTime`)."""
    head, *rest = attr.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class FieldInfo:
    """One model field as the API sees it."""

    attr: str
    name: str
    type: Any
    required: bool
    markers: tuple[Marker, ...]


def fields_of(model: type) -> list[FieldInfo]:
    """The model's fields in declaration order, with Annotated and Optional resolved."""
    if not is_model(model):
        raise TypeError(f"{model!r} is not a model dataclass")
    hints = typing.get_type_hints(model, include_extras=True)
    out = []
    for field in dataclasses.fields(model):
        bare, optional, markers = unwrap(hints[field.name])
        names = [m.name for m in markers if isinstance(m, JsonName)]
        name = names[0] if names else json_name(field.name)
        out.append(FieldInfo(field.name, name, bare, not optional, markers))
    return out


def to_json(value: Any) -> Any:
    """A model instance (or a list/dict of them) as a JSON-ready value with absent fields dropped."""
    if is_model(type(value)):
        return {
            info.name: to_json(getattr(value, info.attr))
            for info in fields_of(type(value))
            if getattr(value, info.attr) is not None
        }
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value
