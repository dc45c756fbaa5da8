"""Spec values with their defaults, read from the models that generate the CRDs.

A reconciler never re-types a default: `value(obj, Model, "attr")` returns the field of `obj["spec"]` or, when it
is absent, the `schema.Default` (which the API server also applies) or `schema.Fallback` (the controller's own
value, where Flux's CRD has none) declared on the model's field. `duration` parses a Go duration to seconds.
The kind modules build their accessors (`kustomize_v1.timeout`, …) from these.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from gotk.api import schema
from gotk.gocompat import durations

__all__ = ["default", "duration", "optional_duration", "value"]


@functools.cache
def _fields(model: type) -> dict[str, schema.FieldInfo]:
    return {info.attr: info for info in schema.fields_of(model)}


def default(model: type, attr: str) -> Any:
    """The declared default of `model.attr` (`Default`, else `Fallback`); None when it has neither."""
    info = _fields(model)[attr]
    for marker in info.markers:
        if isinstance(marker, schema.Default | schema.Fallback):
            return marker.value
    return None


def value(obj: Mapping[str, Any], model: type, attr: str) -> Any:
    """`obj.spec.<json name of attr>`, or its declared default when absent, null or empty."""
    spec = obj.get("spec") or {}
    found = spec.get(_fields(model)[attr].name)
    if found is None or found == "":
        return default(model, attr)
    return found


def duration(obj: Mapping[str, Any], model: type, attr: str) -> float:
    """A duration field in seconds, its default applied; ValueError names a malformed value."""
    found = value(obj, model, attr)
    if found is None:
        raise ValueError(f"spec.{_fields(model)[attr].name} is not set and has no default")
    return durations.parse(str(found))


def optional_duration(obj: Mapping[str, Any], model: type, attr: str) -> float | None:
    """A duration field in seconds, or None when it is absent and has no default."""
    found = value(obj, model, attr)
    return None if found is None else durations.parse(str(found))
