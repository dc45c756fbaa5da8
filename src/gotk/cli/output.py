"""Flux-style CLI output: ✚ ► ✔ ✗ ◎ lines on stderr, tables on stdout.

`CommandError` is the one exception the CLI turns into a single ✗ line and exit code 1.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Sequence


class CommandError(Exception):
    """An expected failure: printed as one ✗ line, exit code 1, no traceback."""


def _line(symbol: str, message: str) -> None:
    print(f"{symbol} {message}", file=sys.stderr, flush=True)


def generate(message: str) -> None:
    _line("✚", message)


def action(message: str) -> None:
    _line("►", message)


def success(message: str) -> None:
    _line("✔", message)


def failure(message: str) -> None:
    _line("✗", message)


def waiting(message: str) -> None:
    _line("◎", message)


def warning(message: str) -> None:
    _line("⚠️", message)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Render rows the way `flux get` does (olekukonko/tablewriter, borderless, tab padded).

    Cells are left aligned and padded to the column's widest line; every data cell is followed by a tab,
    while the header's last cell is followed by one space. Headers are upper-cased ("Last scan" becomes
    "LAST SCAN"); an empty header prints no header line. Cells with newlines span several lines.
    """
    titles = [_title(h) for h in header]
    columns = max([len(titles), *(len(r) for r in rows)], default=0)
    split_rows = [[str(cell).split("\n") for cell in row] + [[""]] * (columns - len(row)) for row in rows]
    widths = [0] * columns
    for i, title in enumerate(titles):
        widths[i] = _width(title)
    for row in split_rows:
        for i, lines in enumerate(row):
            widths[i] = max(widths[i], *(_width(line) for line in lines))
    out: list[str] = []
    if titles:
        padded = [_pad(t, widths[i]) for i, t in enumerate(titles)]
        padded += [_pad("", widths[i]) for i in range(len(titles), columns)]
        out.append("\t".join(padded) + " \n")
    for row in split_rows:
        height = max(len(lines) for lines in row) if row else 1
        for x in range(height):
            line = "".join(_pad(lines[x] if x < len(lines) else "", widths[i]) + "\t" for i, lines in enumerate(row))
            out.append(line + "\n")
    return "".join(out)


def _title(name: str) -> str:
    """tablewriter's header formatting: underscores and word dots become spaces, then upper case."""
    chars = list(name)
    for i, c in enumerate(chars):
        if c == "_":
            chars[i] = " "
        elif c == ".":
            before = i != 0 and not _num_or_space(chars[i - 1])
            after = i != len(chars) - 1 and not _num_or_space(chars[i + 1])
            if before or after:
                chars[i] = " "
    text = "".join(chars).strip()
    if not text and name:
        text = " "
    return text.upper()


def _num_or_space(c: str) -> bool:
    return c.isdigit() or c == " "


def _width(text: str) -> int:
    """Display width in terminal cells (East Asian wide characters count twice)."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
