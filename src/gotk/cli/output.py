"""Flux-style CLI output: ✚ ► ✔ ✗ ◎ lines on stderr, tables on stdout.

`CommandError` is the one exception the CLI turns into a single ✗ line and exit code 1.
"""

from __future__ import annotations

import sys
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
    """Render a borderless, tab-padded table the way `flux get` does (left aligned, 3 spaces apart)."""
    cells = [list(header), *[list(r) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        parts = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("\t".join(parts).rstrip())
    return "\n".join(lines) + "\n"
