"""flux's yes/no confirmation (promptui with IsConfirm): only `y` or `Y` confirms.

The question is shown when stdin is a terminal; otherwise one line is read from stdin as the answer,
so `echo y | flux delete …` confirms and an empty or closed stdin aborts, as with flux. Used by
`flux delete` and by `flux create source git` before applying a generated deploy key.
"""

from __future__ import annotations

import sys


def confirm(label: str) -> bool:
    """Ask `<label>? [y/N]`; True only for the answer `y` or `Y`."""
    if sys.stdin is None:
        return False
    if sys.stdin.isatty():
        sys.stdout.write(f"? {label}? [y/N] ")
        sys.stdout.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):  # stdin closed
        return False
    return answer.strip("\r\n").lower() == "y"
