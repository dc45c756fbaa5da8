"""The code's own rules, checked: every module opens with a docstring, every public class has one, every
reconciler step says in one line what it does, and no step hands state through an untyped dict."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "gotk"


def modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for path in sorted(SRC.rglob("*.py"))]


def test_every_module_has_a_docstring() -> None:
    missing = [
        str(p.relative_to(SRC)) for p, tree in modules() if p.name != "__init__.py" and not ast.get_docstring(tree)
    ]
    assert missing == []


def test_every_public_class_has_a_docstring() -> None:
    missing = [
        f"{p.relative_to(SRC)}:{node.lineno} {node.name}"
        for p, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_") and not ast.get_docstring(node)
    ]
    assert missing == []


def test_every_step_says_what_it_does() -> None:
    missing = [
        f"{p.relative_to(SRC)}:{node.lineno} {node.name}"
        for p, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef) and node.name.startswith("reconcile_") and not ast.get_docstring(node)
    ]
    assert missing == []


def test_no_untyped_step_state() -> None:
    offenders = [str(p.relative_to(SRC)) for p, _ in modules() if "scratch[" in p.read_text()]
    assert offenders == []
