"""postBuild variable substitution for a Kustomization's built objects, as Flux's kustomize_varsub.go does it.

Pure: gotk.kustomize.substitute.variables reads the ``substituteFrom`` ConfigMaps/Secrets. This module merges
and validates the variables, then runs envsubst over each object's YAML text and reads it back with go-yaml
v2's scalar rules (``y`` is true, ``1:20`` a string) and JSON's number rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import yaml

from gotk.gocompat import yaml as goyaml
from gotk.kustomize.substitute.envsubst import SubstitutionError, envsubst

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
        loaded = goyaml.to_json(output)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        message = goyaml.problem_line(exc) or str(exc)  # one line, not PyYAML's multi-line report
        raise ObjectSubstitutionError(obj, f"envsubst error: YAMLToJSON: {message}") from exc
    if not isinstance(loaded, dict):
        detail = f"envsubst error: UnmarshalJSON: expected an object, got {type(loaded).__name__}"
        raise ObjectSubstitutionError(obj, detail)
    return loaded


class _Dumper(goyaml.Resolver, yaml.CSafeDumper):
    """Block style in the objects' own key order, no anchors, multi-line strings as literal blocks, and
    go-yaml v2's rules for what a plain scalar means: the text envsubst runs over, read back by to_json."""

    def represent_data(self, data: Any) -> yaml.Node:
        if isinstance(data, str):
            return yaml.ScalarNode(goyaml.TAG + "str", data, style="|" if "\n" in data else None)
        if isinstance(data, dict):
            items = [(self.represent_data(key), self.represent_data(item)) for key, item in data.items()]
            return yaml.MappingNode(goyaml.TAG + "map", items, flow_style=False)
        if isinstance(data, list):
            return yaml.SequenceNode(goyaml.TAG + "seq", [self.represent_data(item) for item in data], flow_style=False)
        return super().represent_data(data)
