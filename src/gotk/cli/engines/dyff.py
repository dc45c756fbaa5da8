"""Structural YAML comparison as homeport/dyff does it for `flux diff kustomization` (dyff v1.10).

`compare(live, merged)` walks two objects the way dyff's `CompareInputFiles` does with Kubernetes entity
detection on and order changes reported: maps key by key, lists by a shared identifier field (`name`,
`key`, `id`, `manager`, or a guessed one) or by content hashes, scalars by tag and value. The objects are
first written as sigs.k8s.io/yaml would (gotk.gocompat.yaml) and read back, so tags match what dyff sees.
Pure; gotk.cli.engines.dyff_report renders the result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from gotk.gocompat import yaml as goyaml

ADDITION, REMOVAL, MODIFICATION, ORDERCHANGE = "+", "-", "±", "⇆"
IDENTIFIERS = ("name", "key", "id", "manager")  # dyff's candidates plus the Kubernetes one
GUESS_THRESHOLD = 3  # NonStandardIdentifierGuessCountThreshold
_TAG_PREFIX = "tag:yaml.org,2002:"
_TRUE = frozenset(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"))


@dataclass
class Node:
    """A yaml.v3-like node: `kind` is map, seq or scalar; a map's content alternates key and value nodes."""

    kind: str
    tag: str = ""
    value: str = ""
    content: list[Node] = field(default_factory=list)

    def get(self, key: str) -> Node | None:
        for i in range(0, len(self.content), 2):
            if self.content[i].value == key:
                return self.content[i + 1]
        return None


@dataclass(frozen=True)
class PathElement:
    """One step of a path: a map key (`name`), a named list entry (`key`=`name`) or a list index."""

    name: str = ""
    key: str = ""
    idx: int = -1


@dataclass
class Detail:
    """One change at a path: addition, removal, modification or order change, from one node to another."""

    kind: str
    from_: Node | None
    to: Node | None


@dataclass
class Diff:
    """The changes found at one path of the document."""

    path: tuple[PathElement, ...]
    details: list[Detail]


def to_node(obj: Any) -> Node:
    """`obj` as dyff reads it after sigs.k8s.io/yaml.Marshal: Go's key order and YAML tags."""
    composed = yaml.compose(goyaml.dump(obj), Loader=yaml.CSafeLoader)
    if composed is None:
        return Node("scalar", "!!null", "null")
    return _convert(composed)


def _convert(node: yaml.Node) -> Node:
    tag = "!!" + node.tag[len(_TAG_PREFIX) :] if node.tag.startswith(_TAG_PREFIX) else node.tag
    if isinstance(node, yaml.MappingNode):
        content: list[Node] = []
        for key, value in node.value:
            content.extend((_convert(key), _convert(value)))
        return Node("map", tag, content=content)
    if isinstance(node, yaml.SequenceNode):
        return Node("seq", tag, content=[_convert(v) for v in node.value])
    return Node("scalar", tag, str(node.value))


def compare(live: Mapping[str, Any], merged: Mapping[str, Any]) -> list[Diff]:
    """The differences between two versions of one object, in dyff's order."""
    return _objects((), to_node(live), to_node(merged))


def _modification(path: tuple[PathElement, ...], frm: Node | None, to: Node | None) -> list[Diff]:
    return [Diff(path, [Detail(MODIFICATION, frm, to)])]


def _objects(path: tuple[PathElement, ...], frm: Node | None, to: Node | None) -> list[Diff]:
    if frm is None and to is None:
        return []
    if frm is None or to is None or frm.kind != to.kind or frm.tag != to.tag:
        return _modification(path, frm, to)
    if frm.kind == "map":
        return _maps(path, frm, to)
    if frm.kind == "seq":
        return _sequences(path, frm, to)
    if frm.tag == "!!null":
        return []
    if frm.tag == "!!bool":
        return [] if (frm.value in _TRUE) == (to.value in _TRUE) else _modification(path, frm, to)
    return [] if frm.value == to.value else _modification(path, frm, to)


def _maps(path: tuple[PathElement, ...], frm: Node, to: Node) -> list[Diff]:
    result: list[Diff] = []
    removals: list[Node] = []
    additions: list[Node] = []
    for i in range(0, len(frm.content), 2):
        key, value = frm.content[i], frm.content[i + 1]
        other = to.get(key.value)
        if other is not None:
            result.extend(_objects((*path, PathElement(name=key.value)), value, other))
        else:
            removals.extend((key, value))
    for i in range(0, len(to.content), 2):
        key, value = to.content[i], to.content[i + 1]
        if frm.get(key.value) is None:
            additions.extend((key, value))
    details: list[Detail] = []
    if removals:
        details.append(Detail(REMOVAL, Node("map", frm.tag, content=removals), None))
    if additions:
        details.append(Detail(ADDITION, None, Node("map", to.tag, content=additions)))
    return [Diff(path, details), *result] if details else result


# -- lists -------------------------------------------------------------------------------------------


def _sequences(path: tuple[PathElement, ...], frm: Node, to: Node) -> list[Diff]:
    if not frm.content and not to.content:
        return []
    ident = _identifier(frm, to) or _guessed_identifier(frm, to)
    if ident is not None:
        return _named_lists(path, ident, frm, to)
    if _all_k8s(frm) and _all_k8s(to):
        return _named_lists(path, "", frm, to)
    return _simple_lists(path, frm, to)


def _entry_name(entry: Node, ident: str) -> str | None:
    """The entry's identifier value; with ident "" the Kubernetes `apiVersion/kind[/namespace]/name`."""
    if entry.kind != "map":
        return None
    if ident:
        value = entry.get(ident)
        return None if value is None else value.value
    parts = [entry.get("apiVersion"), entry.get("kind")]
    metadata = entry.get("metadata")
    if metadata is None or metadata.kind != "map" or any(p is None for p in parts):
        return None
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if name is None:
        return None
    values = [p.value for p in parts if p is not None]
    if namespace is not None:
        values.append(namespace.value)
    return "/".join([*values, name.value])


def _all_k8s(seq: Node) -> bool:
    return all(_entry_name(e, "") is not None for e in seq.content)


def _distinct(seq: Node, key: str, *, strings_only: bool) -> int | None:
    values: set[str] = set()
    for entry in seq.content:
        if entry.kind != "map":
            return None
        value = entry.get(key)
        if value is None:
            continue
        if strings_only and not (value.kind == "scalar" and value.tag == "!!str"):
            continue
        values.add(value.value)
    return len(values)


def _identifier(frm: Node, to: Node) -> str | None:
    for candidate in IDENTIFIERS:
        a = _distinct(frm, candidate, strings_only=False)
        b = _distinct(to, candidate, strings_only=False)
        if a and b and a == len(frm.content) and b == len(to.content):
            return candidate
    return None


def _guessed_identifier(frm: Node, to: Node) -> str | None:
    if any(e.kind != "map" for e in (*frm.content, *to.content)):
        return None
    keys = sorted({k.value for e in frm.content for k in e.content[::2]})
    for key in keys:
        a = _distinct(frm, key, strings_only=True)
        b = _distinct(to, key, strings_only=True)
        if a and b and a == len(frm.content) and b == len(to.content) and a > GUESS_THRESHOLD:
            return key
    return None


def _named_lists(path: tuple[PathElement, ...], ident: str, frm: Node, to: Node) -> list[Diff]:
    result: list[Diff] = []
    removals: list[Node] = []
    additions: list[Node] = []
    to_by_name = {_entry_name(e, ident): e for e in reversed(to.content)}
    from_by_name = {_entry_name(e, ident) for e in frm.content}
    from_names: list[str] = []
    to_names: list[str] = []
    key = ident or "resource"
    for entry in frm.content:
        name = _entry_name(entry, ident) or ""
        other = to_by_name.get(name)
        if other is not None:
            result.extend(_objects((*path, PathElement(name=name, key=key)), entry, other))
            from_names.append(name)
        else:
            removals.append(entry)
    for entry in to.content:
        name = _entry_name(entry, ident) or ""
        if name in from_by_name:
            to_names.append(name)
        else:
            additions.append(entry)
    order: list[Detail] = []
    positions = {name: i for i, name in enumerate(to_names)}
    if any(positions.get(name, 0) != i for i, name in enumerate(from_names)):
        order.append(Detail(ORDERCHANGE, _strings(from_names), _strings(to_names)))
    return _pack(result, path, order, additions, removals)


def _strings(values: Sequence[str]) -> Node:
    return Node("seq", content=[Node("scalar", "!!str", v) for v in values])


def _basic(node: Node) -> Any:
    if node.kind == "map":
        return {node.content[i].value: _basic(node.content[i + 1]) for i in range(0, len(node.content), 2)}
    if node.kind == "seq":
        return [_basic(e) for e in node.content]
    return node.value


def _hash(node: Node) -> str:
    return json.dumps(_basic(node), sort_keys=True)


def _simple_lists(path: tuple[PathElement, ...], frm: Node, to: Node) -> list[Diff]:
    if len(frm.content) == 1 and len(to.content) == 1:
        return _objects((*path, PathElement(idx=0)), frm.content[0], to.content[0])
    from_hashes = [_hash(e) for e in frm.content]
    to_hashes = [_hash(e) for e in to.content]
    removals, from_common = _one_sided(frm.content, from_hashes, to_hashes)
    additions, to_common = _one_sided(to.content, to_hashes, from_hashes)
    order: list[Detail] = []
    if len(from_common) == len(to_common) and [_hash(e) for e in from_common] != [_hash(e) for e in to_common]:
        order.append(Detail(ORDERCHANGE, Node("seq", content=from_common), Node("seq", content=to_common)))
    return _pack([], path, order, additions, removals)


def _one_sided(entries: list[Node], hashes: list[str], other: list[str]) -> tuple[list[Node], list[Node]]:
    """Entries missing from the other list (duplicates counted) and the entries both lists have."""
    missing: list[Node] = []
    common: list[Node] = []
    for entry, h in zip(entries, hashes, strict=True):
        if h not in other:
            missing.append(entry)
            continue
        common.append(entry)
        surplus = hashes.count(h) - other.count(h)
        if surplus > 0 and all(_hash(m) != h for m in missing):
            missing.extend([entry] * surplus)
    return missing, common


def _pack(
    result: list[Diff], path: tuple[PathElement, ...], order: list[Detail], additions: list[Node], removals: list[Node]
) -> list[Diff]:
    details = list(order)
    if removals:
        details.append(Detail(REMOVAL, Node("seq", "!!seq", content=removals), None))
    if additions:
        details.append(Detail(ADDITION, None, Node("seq", "!!seq", content=additions)))
    return [Diff(path, details), *result] if details else result
