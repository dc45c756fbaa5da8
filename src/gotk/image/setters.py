"""The Setters update strategy, pure: find the values marked `# {"$imagepolicy": "NS:NAME[:tag|:name|:digest]"}`
in YAML files and replace them with what the policies selected, changing nothing else in the file.

Flux's controller parses each file with kyaml and writes it back, which may reformat it; here only the
characters of the marked scalar change (its quoting style is kept; a plain value that would read back as
a number or boolean is double-quoted, as kyaml's `FormatNonStringStyle` does). Only files with the
`"$imagepolicy"` token, named `*.yaml`, `*.yml` or `Kustomization`, are read; a file that is not YAML is
skipped and listed in `Result.problem_files`; a marker naming a policy that is not selected (or has no
latest image) changes nothing and is listed in `Result.missing`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

__all__ = [
    "TOKEN",
    "Change",
    "FileUpdate",
    "ObjectId",
    "Result",
    "setter_values",
    "update_text",
    "update_tree",
]

TOKEN: Final = '"$imagepolicy"'
_SHORTHAND: Final = "$imagepolicy"
_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_COMMENT: Final = re.compile(r"[ \t]+#([^\n\r]*)")


@dataclass(frozen=True, order=True)
class ObjectId:
    """The object a changed value belongs to (kyaml's ResourceIdentifier)."""

    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""


@dataclass(frozen=True)
class Change:
    """One replaced value: what it was, what it is, and the setter (`NS:NAME[:part]`) that asked."""

    old_value: str
    new_value: str
    setter: str


@dataclass
class FileUpdate:
    """A file's new text and its changes, per object in the order they were found."""

    text: str
    changes: dict[ObjectId, list[Change]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


@dataclass
class Result:
    """What an update did to a tree: the changes per file (relative path), the markers naming no selected
    policy (`file: setter`), and the files that could not be read as YAML."""

    file_changes: dict[str, dict[ObjectId, list[Change]]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    problem_files: list[str] = field(default_factory=list)

    def changes(self) -> list[Change]:
        """Every distinct change (Flux's `.Changed.Changes`)."""
        seen: list[Change] = []
        for objects in self.file_changes.values():
            for changes in objects.values():
                seen.extend(c for c in changes if c not in seen)
        return seen


def setter_values(policies: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The value of every setter the policies define: `NS:NAME` the whole reference (`name:tag[@digest]`),
    then `:tag`, `:name` and `:digest`; policies without a latest image define none."""
    values: dict[str, str] = {}
    for policy in policies:
        ref = (policy.get("status") or {}).get("latestRef") or {}
        if not ref:
            continue
        meta = policy.get("metadata") or {}
        setter = f"{meta.get('namespace', '')}:{meta.get('name', '')}"
        name, tag, digest = str(ref.get("name") or ""), str(ref.get("tag") or ""), str(ref.get("digest") or "")
        values[setter] = f"{name}:{tag}" + (f"@{digest}" if digest else "")
        values[f"{setter}:tag"] = tag
        values[f"{setter}:name"] = name
        values[f"{setter}:digest"] = digest
    return values


def _marker(comment: str) -> str | None:
    """The setter a line comment names, as kyaml's shorthand: the whole comment is `{"$imagepolicy": "..."}`."""
    try:
        data = json.loads(comment.lstrip("#"))
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    name = data.get(_SHORTHAND)
    return name or None


def _needs_quotes(value: str) -> bool:
    """Whether `value` written plain would not read back as this same string (YAML 1.1, as kyaml checks)."""
    if value == "":
        return True
    try:
        loaded = yaml.load(f"k: {value}\n", Loader=_LOADER)
    except yaml.YAMLError:
        return True
    return not (isinstance(loaded, dict) and loaded.get("k") == value and isinstance(loaded.get("k"), str))


def _render(value: str, style: str | None) -> str:
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or style in ("|", ">") or _needs_quotes(value):
        return json.dumps(value, ensure_ascii=False)
    return value


def _get(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v  # type: ignore[no-any-return]
    return None


def _text(node: yaml.Node | None) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def _identify(document: yaml.Node) -> ObjectId:
    meta = _get(document, "metadata")
    return ObjectId(
        api_version=_text(_get(document, "apiVersion")),
        kind=_text(_get(document, "kind")),
        name=_text(_get(meta, "name")) if meta is not None else "",
        namespace=_text(_get(meta, "namespace")) if meta is not None else "",
    )


def _values(node: yaml.Node, seen: set[int]) -> Iterator[yaml.ScalarNode]:
    """The scalars in value positions (mapping values, sequence items, a scalar document), each once."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.MappingNode):
        for _, value in node.value:
            yield from _values(value, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _values(item, seen)


def update_text(text: str, values: Mapping[str, str]) -> FileUpdate:
    """Replace every marked value of a YAML text; raises `yaml.YAMLError` when the text is not YAML."""
    starts = {
        tok.end_mark.index: tok.start_mark.index
        for tok in yaml.scan(text, Loader=_LOADER)
        if isinstance(tok, yaml.ScalarToken)
    }
    update = FileUpdate(text)
    edits: list[tuple[int, int, str]] = []
    for document in yaml.compose_all(text, Loader=_LOADER):
        if document is None:
            continue
        object_id: ObjectId | None = None
        seen: set[int] = set()  # per document: the tree keeps its nodes (and so their ids) alive
        for node in _values(document, seen):
            end = node.end_mark.index
            comment = _COMMENT.match(text, end)
            if comment is None or node.style in ("|", ">") or end not in starts:
                continue
            setter = _marker(comment.group(1))
            if setter is None:
                continue
            new = values.get(setter)
            if new is None:
                update.missing.append(setter)
                continue
            old = str(node.value)
            if new == old:
                continue
            edits.append((starts[end], end, _render(new, node.style)))
            object_id = object_id or _identify(document)
            update.changes.setdefault(object_id, []).append(Change(old, new, setter))
    pieces, last = [], len(text)
    for start, end, replacement in sorted(edits, reverse=True):
        pieces.append(text[end:last])
        pieces.append(replacement)
        last = start
    pieces.append(text[:last])
    update.text = "".join(reversed(pieces))
    return update


def _candidates(root: Path) -> Iterator[Path]:
    """The files under `root` the strategy reads, in a stable order; symlinks are not followed."""
    if root.is_file():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not (path.suffix in (".yaml", ".yml") or name == "Kustomization"):
                continue
            yield path


def update_tree(repo_root: Path, path: str, values: Mapping[str, str]) -> Result:
    """Update the files under `repo_root/path` in place; raises ValueError when `path` leaves the repository."""
    root = (repo_root / path.lstrip("/")).resolve() if path else repo_root.resolve()
    base = repo_root.resolve()
    if root != base and base not in root.parents:
        raise ValueError(f"update path '{path}' is outside the repository")
    if not root.exists():
        raise ValueError(f"update path '{path}' does not exist in the repository")
    result = Result()
    relative_to = root if root.is_dir() else root.parent
    for file in _candidates(root):
        raw = file.read_bytes()
        if TOKEN.encode() not in raw:
            continue
        rel = file.relative_to(relative_to).as_posix()
        try:
            update = update_text(raw.decode(), values)
        except (yaml.YAMLError, UnicodeDecodeError):
            result.problem_files.append(rel)
            continue
        result.missing.extend(f"{rel}: {setter}" for setter in update.missing)
        if not update.changes:
            continue
        file.write_bytes(update.text.encode())
        result.file_changes[rel] = update.changes
    return result
