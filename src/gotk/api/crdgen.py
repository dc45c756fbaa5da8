"""Generates the CustomResourceDefinitions from the typed models (a build step).

`python -m gotk.api.crdgen DIR` writes one `<group>_<plural>.yaml` per kind plus a kustomization.yaml;
`--check DIR` fails when the committed files differ from what the models produce (CI runs it on
config/crd). Schemas are structural: every node is typed or marked free-form, and there is no $ref.
"""

import argparse
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml

from gotk.api import kinds, schema

_SCALARS: dict[type, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}
SUBSTITUTE_ANNOTATION = "kustomize.toolkit.fluxcd.io/substitute"
KUSTOMIZATION = "kustomization.yaml"


def schema_of(tp: Any, markers: tuple[schema.Marker, ...] = ()) -> dict[str, Any]:
    """The OpenAPI v3 schema of a field type (Annotated and Optional layers allowed)."""
    bare, _, inner = schema.unwrap(tp)
    markers = (*markers, *inner)
    kinds_of = {type(m) for m in markers}
    if schema.PreserveUnknownFields in kinds_of and not schema.is_model(bare):
        node: dict[str, Any] = {"x-kubernetes-preserve-unknown-fields": True}
    elif schema.XIntOrString in kinds_of:
        node = {"x-kubernetes-int-or-string": True}
    else:
        node = _shape(bare)
    _apply(node, markers)
    return node


def _shape(bare: Any) -> dict[str, Any]:
    origin = typing.get_origin(bare)
    if origin is Literal:
        values = list(typing.get_args(bare))
        types = {_SCALARS[type(v)] for v in values}
        if len(types) != 1:
            raise TypeError(f"enum {bare!r} mixes value types")
        return {"type": types.pop(), "enum": values}
    if origin is list:
        (item,) = typing.get_args(bare)
        return {"type": "array", "items": schema_of(item)}
    if origin is dict:
        key, value = typing.get_args(bare)
        if key is not str:
            raise TypeError(f"map keys must be str: {bare!r}")
        return {"type": "object", "additionalProperties": schema_of(value)}
    if schema.is_model(bare):
        return _object(bare)
    if isinstance(bare, type) and bare in _SCALARS:
        return {"type": _SCALARS[bare]}
    raise TypeError(f"no OpenAPI mapping for {bare!r}")


def _object(model: type) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "object"}
    doc = schema.doc_of(model)
    if doc:
        node["description"] = doc
    fields = schema.fields_of(model)
    node["properties"] = {info.name: schema_of(info.type, info.markers) for info in fields}
    required = sorted(info.name for info in fields if info.required)
    if required:
        node["required"] = required
    _apply(node, schema.markers_of(model))
    return node


def _apply(node: dict[str, Any], markers: tuple[schema.Marker, ...]) -> None:
    """Write the markers (outermost first) onto the node; the outermost of two conflicting markers wins.

    Field markers are applied after the model's own, so a field's Description replaces the docstring.
    """
    rules = [{"rule": m.rule, "message": m.message} for m in markers if isinstance(m, schema.Validation)]
    for marker in reversed(markers):
        match marker:
            case schema.Pattern(regex):
                node["pattern"] = regex
            case schema.Default(value):
                node["default"] = value
            case schema.Minimum(value):
                node["minimum"] = value
            case schema.Maximum(value):
                node["maximum"] = value
            case schema.MinLength(value):
                node["minLength"] = value
            case schema.MaxLength(value):
                node["maxLength"] = value
            case schema.MinItems(value):
                node["minItems"] = value
            case schema.MaxItems(value):
                node["maxItems"] = value
            case schema.Format(name):
                node["format"] = name
            case schema.Description(text):
                node["description"] = text
            case schema.ListType(kind, map_keys):
                node["x-kubernetes-list-type"] = kind
                if map_keys:
                    node["x-kubernetes-list-map-keys"] = list(map_keys)
            case schema.MapType(kind):
                node["x-kubernetes-map-type"] = kind
            case schema.PreserveUnknownFields():
                node["x-kubernetes-preserve-unknown-fields"] = True
            case schema.Validation() | schema.XIntOrString() | schema.JsonName() | schema.Fallback():
                pass
    if rules:
        node["x-kubernetes-validations"] = [*node.get("x-kubernetes-validations", []), *rules]


def crd_name(info: kinds.KindInfo) -> str:
    return f"{info.plural}.{info.group}"


def file_name(info: kinds.KindInfo) -> str:
    """`<group>_<plural>.yaml`, the file name controller-gen uses."""
    return f"{info.group}_{info.plural}.yaml"


def render(info: kinds.KindInfo) -> dict[str, Any]:
    """The CustomResourceDefinition of one kind."""
    properties: dict[str, Any] = {
        "apiVersion": {
            "type": "string",
            "description": "Versioned schema of this representation of an object.",
        },
        "kind": {"type": "string", "description": "REST resource this object represents, in CamelCase."},
        "metadata": {"type": "object"},
        "spec": schema_of(info.spec),
    }
    if info.status is not None:
        properties["status"] = schema_of(info.status)
    root = {
        "type": "object",
        "description": f"A {info.kind} object of the Flux {info.group} API, version {info.version}.",
        "properties": properties,
    }
    version: dict[str, Any] = {
        "name": info.version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": root},
        "subresources": {"status": {}} if info.status is not None else {},
        "additionalPrinterColumns": [_column(column) for column in info.printer_columns],
    }
    names: dict[str, Any] = {
        "kind": info.kind,
        "listKind": info.list_kind,
        "plural": info.plural,
        "singular": info.singular,
        "categories": list(info.categories),
    }
    if info.short_names:
        names["shortNames"] = list(info.short_names)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": crd_name(info), "annotations": {SUBSTITUTE_ANNOTATION: "disabled"}},
        "spec": {
            "group": info.group,
            "names": names,
            "scope": "Namespaced" if info.namespaced else "Cluster",
            "versions": [version],
        },
    }


def _column(column: kinds.PrinterColumn) -> dict[str, Any]:
    out: dict[str, Any] = {"name": column.name, "type": column.type, "jsonPath": column.json_path}
    if column.priority is not None:
        out["priority"] = column.priority
    if column.description is not None:
        out["description"] = column.description
    return out


def render_all() -> list[dict[str, Any]]:
    """One CRD per kind, in registry order."""
    return [render(info) for info in kinds.all_kinds()]


_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def render_yaml(crd: dict[str, Any]) -> str:
    """Stable YAML: sorted keys, no line folding, a leading document marker."""
    body = yaml.dump(crd, Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=1 << 16)
    return "---\n" + body


def expected_files() -> dict[str, str]:
    """File name → content of everything the generator owns in the output directory."""
    files = {file_name(info): render_yaml(render(info)) for info in kinds.all_kinds()}
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(files),
    }
    files[KUSTOMIZATION] = yaml.dump(kustomization, Dumper=_Dumper, sort_keys=False)
    return files


def _owned(directory: Path) -> set[str]:
    """Generated-looking files present in the directory (`*.fluxcd.io_*.yaml`)."""
    return {path.name for path in directory.glob("*.fluxcd.io_*.yaml")}


def write(directory: Path) -> list[Path]:
    """Write every file, remove generated files of kinds that no longer exist; returns what changed."""
    directory.mkdir(parents=True, exist_ok=True)
    expected = expected_files()
    changed = []
    for name, content in expected.items():
        path = directory / name
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            changed.append(path)
    for name in sorted(_owned(directory) - set(expected)):
        (directory / name).unlink()
        changed.append(directory / name)
    return changed


def check(directory: Path) -> list[str]:
    """Problems with the committed output, one line each; empty when it is up to date."""
    expected = expected_files()
    problems = []
    for name, content in expected.items():
        path = directory / name
        if not path.exists():
            problems.append(f"missing: {path}")
        elif path.read_text() != content:
            problems.append(f"stale: {path}")
    for name in sorted(_owned(directory) - set(expected)) if directory.is_dir() else ():
        problems.append(f"unexpected: {directory / name}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gotk.api.crdgen", description=__doc__)
    parser.add_argument("directory", type=Path, help="output directory, e.g. config/crd")
    parser.add_argument("--check", action="store_true", help="only verify that DIR is up to date")
    args = parser.parse_args(argv)
    directory: Path = args.directory
    if args.check:
        problems = check(directory)
        if problems:
            print(f"CRDs in {directory} are out of date with the models in gotk.api:", file=sys.stderr)
            for line in problems:
                print(f"  {line}", file=sys.stderr)
            print(f"regenerate them with: python -m gotk.api.crdgen {directory}", file=sys.stderr)
            return 1
        print(f"CRDs in {directory} are up to date")
        return 0
    for path in write(directory):
        print(f"wrote {path}" if path.exists() else f"removed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
