"""dyff's human report (`HumanReport` with the header omitted, as flux prints it), without colours.

Each difference is a blank line, its dot-style path (`spec.ports.http.port`) and its details: map or list
entries added/removed (as neat-printed YAML), value and type changes, multi-line text diffs, order changes.
Details of one path sit side by side when they fit the terminal width (80 columns when stdout is not a
terminal), as dyff's table style does. Pure apart from asking stdout's width.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Sequence

from gotk.cli.engines.dyff import ADDITION, MODIFICATION, ORDERCHANGE, REMOVAL, Detail, Diff, Node, PathElement

_KNOWN_KEY_ORDERS: tuple[tuple[str, ...], ...] = (
    ("name", "director_uuid", "releases", "instance_groups", "networks", "resource_pools", "compilation"),
    ("name", "url", "version", "sha1"),
    ("jobs", "resources", "resource_types"),
    ("name", "type", "source"),
    ("get",),
    ("put",),
    ("task",),
    ("releases", "instance_groups", "configuration", "variables"),
    ("auth", "templates"),
    ("apiVersion", "kind", "metadata", "spec", "status"),
    ("name",),
    ("key",),
    ("id",),
)
_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
_NUMBER = re.compile(r"^(-|\+)?[0-9.e+]+$")
_SEPARATOR = "   "


def terminal_width() -> int:
    """gonvenience/term: stdout's width, or 80 when stdout is not a terminal."""
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 80


def plural(amount: int, one: str, many: str | None = None) -> str:
    number = _WORDS[amount] if amount < len(_WORDS) else str(amount)
    if amount == 1:
        return f"{number} {one}"
    return f"{number} {many if many is not None else one + 's'}"


def render(diffs: Sequence[Diff], width: int | None = None) -> str:
    """The report for one object's differences, ending with dyff's closing newline."""
    width = terminal_width() if width is None else width
    out: list[str] = []
    for diff in diffs:
        out.append("\n" + path_string(diff.path) + "\n")
        blocks = [_detail(d, width) for d in diff.details]
        out.append(_text_blocks(0, blocks, width))
    out.append("\n")
    return "".join(out)


def path_string(path: Sequence[PathElement]) -> str:
    if not path:
        return "(root level)"
    return ".".join(e.name if e.name else str(e.idx) for e in path if e.name or e.idx >= 0)


# -- details ------------------------------------------------------------------------------------------


def _detail(detail: Detail, width: int) -> str:
    if detail.kind == ADDITION and detail.to is not None:
        return _entries(detail.to, "added", 2, width)
    if detail.kind == REMOVAL and detail.from_ is not None:
        return _entries(detail.from_, "removed", 0, width)
    if detail.kind == ORDERCHANGE and detail.from_ is not None and detail.to is not None:
        return _order(detail.from_, detail.to, width)
    return _modification(detail.from_, detail.to, width)


def _entries(node: Node, verb: str, indent: int, width: int) -> str:
    symbol = ADDITION if verb == "added" else REMOVAL
    if node.kind == "seq":
        head = f"{symbol} {plural(len(node.content), 'list entry', 'list entries')} {verb}:\n"
    else:
        head = f"{symbol} {plural(len(node.content) // 2, 'map entry', 'map entries')} {verb}:\n"
    restructure(node)
    return head + _text_blocks(indent, [neat(node)], width)


def _modification(frm: Node | None, to: Node | None, width: int) -> str:
    from_type, to_type = human_type(frm), human_type(to)
    if frm is not None and to is not None and from_type == "string" and to_type == "string":
        return _string_diff(frm.value, to.value, width)
    head = (
        f"{MODIFICATION} value change\n"
        if from_type == to_type
        else (f"{MODIFICATION} type change from {from_type} to {to_type}\n")
    )
    return head + _prefixed("- ", _yaml_string(frm).rstrip("\n")) + _prefixed("+ ", _yaml_string(to).rstrip("\n"))


def _string_diff(frm: str, to: str, width: int) -> str:
    if frm.strip(" \n") == to.strip(" \n"):
        blocks = [_prefixed("- ", _show_whitespace(frm)), _prefixed("+ ", _show_whitespace(to))]
        return f"{MODIFICATION} whitespace only change\n" + _text_blocks(0, blocks, width)
    if "\n" in frm or "\n" in to:
        return _multiline(frm, to)
    return f"{MODIFICATION} value change\n" + _prefixed("- ", frm) + _prefixed("+ ", to)


def _multiline(frm: str, to: str) -> str:
    a, b = frm.splitlines(keepends=True), to.splitlines(keepends=True)
    inserts = deletions = 0
    body: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            body.append(_continuous("- ", "".join(a[i1:i2])))
            deletions += 1
        if op in ("insert", "replace"):
            body.append(_continuous("+ ", "".join(b[j1:j2])))
            inserts += 1
    counts = f"{plural(inserts, 'insert')}, {plural(deletions, 'deletion')}"
    head = f"{MODIFICATION} value change in multiline text ({counts})\n"
    return head + "".join(body) + "\n"


def _order(frm: Node, to: Node, width: int) -> str:
    def strings(seq: Node) -> list[str]:
        return [e.value if e.value else _yaml_string(e) for e in seq.content]

    a, b = strings(frm), strings(to)
    out = f"{ORDERCHANGE} order changed\n"
    longest = max(sum(len(s) for s in a) + (len(a) - 1) * 2, sum(len(s) for s in b) + (len(b) - 1) * 2)
    if longest < width // 2:
        return out + f"- {', '.join(a)}\n" + f"+ {', '.join(b)}\n"
    return out + table(" ", 2, ["\n".join(a), "\n".join(b)])


def human_type(node: Node | None) -> str:
    if node is None:
        return "<nil>"
    if node.kind == "map":
        return "map"
    if node.kind == "seq":
        return "list"
    if node.tag == "!!str":
        return "string"
    if node.tag == "!!null":
        return "<nil>"
    return node.tag[2:]


def _yaml_string(node: Node | None) -> str:
    if node is None or node.tag == "!!null":
        return "<nil>"
    return neat(node)


def _show_whitespace(text: str) -> str:
    return text.replace("\n", "↵\n").replace(" ", "·")


def _prefixed(prefix: str, text: str) -> str:
    """dyff's createStringWithPrefix: the prefix on the first line, its width in spaces on the others."""
    lines = text.split("\n")
    return "".join((prefix if i == 0 else " " * len(prefix)) + line + "\n" for i, line in enumerate(lines))


def _continuous(prefix: str, text: str) -> str:
    """dyff's createStringWithContinuousPrefix: the prefix on every line."""
    trimmed = text[:-1] if text.endswith("\n") else text
    return "".join(prefix + line + "\n" for line in trimmed.split("\n"))


# -- layout -------------------------------------------------------------------------------------------


def _text_blocks(indent: int, blocks: Sequence[str], width: int) -> str:
    """Blocks side by side (table style) when they fit `width`, else one after another."""
    longest = indent + (len(blocks) - 1) * len(_SEPARATOR)
    longest += sum(max(len(line) for line in block.split("\n")) for block in blocks)
    if longest > width:
        return "".join(" " * indent + line + "\n" for block in blocks for line in block.split("\n"))
    return table(_SEPARATOR, indent, blocks)


def table(separator: str, indent: int, columns: Sequence[str]) -> str:
    """dyff's CreateTableStyleString: columns padded to their widest line, trailing blanks trimmed."""
    split = [c.split("\n") for c in columns]
    rows = max(len(lines) for lines in split)
    widths = [max(len(line) for line in lines) for lines in split]
    out: list[str] = []
    for r in range(rows):
        cells = [
            " " * indent + lines[r] + " " * (widths[i] - len(lines[r]))
            if r < len(lines)
            else " " * (widths[i] + indent)
            for i, lines in enumerate(split)
        ]
        out.append(separator.join(cells).rstrip(" "))
    return "\n".join(out)


# -- YAML as gonvenience/neat prints it ---------------------------------------------------------------


def restructure(node: Node) -> None:
    """ytbx.RestructureObject: put well-known keys first (Kubernetes, `name`, …), deep values last."""
    if node.kind == "map":
        keys = [node.content[i].value for i in range(0, len(node.content), 2)]
        best: tuple[str, ...] | None = None
        hits = 0
        for candidate in _KNOWN_KEY_ORDERS:
            count = sum(1 for k in keys if k in candidate)
            if count > hits:
                best, hits = candidate, count
        if best is not None:
            first = [k for k in best if k in keys]
            rest = sorted((k for k in keys if k not in first), key=lambda k: _depth(node.get(k)))
            pairs = {
                node.content[i].value: (node.content[i], node.content[i + 1]) for i in range(0, len(node.content), 2)
            }
            node.content = [n for k in (*first, *rest) for n in pairs[k]]
        for i in range(1, len(node.content), 2):
            restructure(node.content[i])
    elif node.kind == "seq":
        for entry in node.content:
            restructure(entry)


def _depth(node: Node | None) -> int:
    if node is None or node.kind == "scalar" or not node.content:
        return 0
    children = node.content[1::2] if node.kind == "map" else node.content
    return 1 + max(_depth(c) for c in children)


def neat(node: Node, prefix: str = "", skip_first_indent: bool = False) -> str:
    out: list[str] = []
    _neat(node, prefix, skip_first_indent, out)
    return "".join(out)


def _neat(node: Node, prefix: str, skip_first: bool, out: list[str]) -> None:
    if node.kind == "seq":
        for i, entry in enumerate(node.content):
            if i > 0 or not skip_first:
                out.append(prefix)
            out.append("- ")
            _neat(entry, prefix + "  ", True, out)
    elif node.kind == "map":
        for i in range(0, len(node.content), 2):
            if i > 0 or not skip_first:
                out.append(prefix)
            out.append(f"{node.content[i].value}:")
            value = node.content[i + 1]
            if value.kind == "scalar":
                out.append(" ")
                _neat(value, prefix + "  ", False, out)
            elif not value.content:
                out.append(" {}\n" if value.kind == "map" else " []\n")
            else:
                out.append("\n")
                _neat(value, prefix + "  " if value.kind == "map" else prefix, False, out)
    else:
        lines = node.value.split("\n")
        if len(lines) == 1:
            out.append(f"{_go_quote(node.value)}\n" if _needs_quotes(node) else node.value + "\n")
        else:
            out.append("|\n" + "\n".join(prefix + line for line in lines) + "\n")


def _needs_quotes(node: Node) -> bool:
    if node.tag != "!!str":
        return False
    value = node.value
    if value in ("true", "false", "null", ".nan", ".inf", "-.inf", "+.inf") or value.startswith("-"):
        return True
    return bool(_NUMBER.match(value)) or any(c in value for c in " *&:,")


def _go_quote(value: str) -> str:
    """Go's %q for the printable strings Kubernetes objects hold."""
    out = ['"']
    for c in value:
        if c in ('"', "\\"):
            out.append("\\" + c)
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif not c.isprintable():
            code = ord(c)
            out.append(f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)
