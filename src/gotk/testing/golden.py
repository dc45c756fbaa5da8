"""Golden files for CLI output tests: compare text with tests/golden/<name>, or rewrite it.

Set GOTK_UPDATE_GOLDEN=1 to (re)write the files from the current output instead of comparing;
review the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

UPDATE_ENV = "GOTK_UPDATE_GOLDEN"


def assert_golden(directory: Path, name: str, actual: str) -> None:
    """Fail with a unified diff when `actual` differs from directory/name (or write it in update mode)."""
    path = directory / name
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        raise AssertionError(f"golden file {path} is missing; run with {UPDATE_ENV}=1 to create it")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=str(path),
                tofile="actual",
            )
        )
        raise AssertionError(f"output differs from {path} (set {UPDATE_ENV}=1 to update):\n{diff}")


def export_output(args: list[str]) -> str:
    """What `flux <args> --export` prints on stdout (run in-process; a failure shows the command's output)."""
    from click.testing import CliRunner  # imported late: only CLI tests need them

    from gotk.cli.main import cli

    result = CliRunner().invoke(cli, [*args, "--export"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout
