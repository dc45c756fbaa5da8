"""Helm values merged as Flux merges them (values files of a HelmChart, valuesFrom of a HelmRelease): maps merge
key by key, anything else, lists included, is replaced by the override. Pure; below the controllers that use it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Obj = dict[str, Any]


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> Obj:
    """Deep merge: maps merge key by key, anything else (lists too) is replaced."""
    out: Obj = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
