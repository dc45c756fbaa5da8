"""CEL expressions over plain Kubernetes objects, on top of cel-python, shaped like Flux's runtime/cel.

Flux evaluates with cel-go plus cross-type numeric comparisons and the ext.Strings library; cel-python has
neither, so this module adds both as overriding functions. Optional types (`.?`, `orValue`) and the
sets/encoders extensions are not available. Used by `gotk.ssa.status` for `healthCheckExprs` and by
`gotk.runtime.dependencies` for dependsOn `readyExpr`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Final

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError, CELFunction, base_functions

__all__ = ["CelError", "CelEvalError", "Expression", "compile_expression"]


class CelError(ValueError):
    """The expression does not parse; the message is Flux's wording."""


class CelEvalError(RuntimeError):
    """The expression failed on this input (a missing field, no overload, a non-boolean result)."""


class Expression:
    """One parsed CEL expression, evaluated against an object whose top-level fields are the variables."""

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            ast = _environment().compile(text)
        except Exception as exc:  # CELParseError, or lark's errors for odd input
            raise CelError(f"failed to parse the CEL expression '{text}': {_describe(exc)}") from exc
        self._program = _environment().program(ast, functions=_FUNCTIONS)
        self.variables: frozenset[str] = _free_names(ast)
        """The top-level names the expression reads (macro loop variables and type names left out)."""

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def evaluate(self, data: Mapping[str, Any]) -> Any:
        """Evaluate against `data` (a Kubernetes object); returns the CEL value or raises `CelEvalError`."""
        activation = {str(k): json_to_cel(v) for k, v in data.items()}
        try:
            value = self._program.evaluate(activation)
        except Exception as exc:  # CELEvalError and whatever an overload lets escape
            raise CelEvalError(f"failed to evaluate the CEL expression '{self.text}': {_describe(exc)}") from exc
        if isinstance(value, CELEvalError):
            raise CelEvalError(f"failed to evaluate the CEL expression '{self.text}': {_describe(value)}")
        return value

    def evaluate_bool(self, data: Mapping[str, Any]) -> bool:
        value = self.evaluate(data)
        if not isinstance(value, celtypes.BoolType):
            raise CelEvalError(f"failed to evaluate CEL expression as boolean: '{self.text}'")
        return bool(value)


_MACROS: Final = frozenset({"all", "exists", "exists_one", "map", "filter"})
_TYPE_NAMES: Final = frozenset(
    {"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn"}
)


def _free_names(ast: Any) -> frozenset[str]:
    names: set[str] = set()
    bound: set[str] = set()
    for node in ast.iter_subtrees():
        if node.data == "ident":
            names.add(str(node.children[0]))
        elif node.data == "member_dot_arg" and len(node.children) == 3 and str(node.children[1]) in _MACROS:
            first = node.children[2].children[0] if node.children[2].children else None
            if first is not None:
                bound.update(str(n.children[0]) for n in first.iter_subtrees() if n.data == "ident")
    return frozenset(names - bound - _TYPE_NAMES)


@functools.lru_cache(maxsize=1024)
def compile_expression(text: str) -> Expression:
    """Parse once per distinct expression text (health checks re-evaluate the same few on every event)."""
    return Expression(text)


@functools.cache
def _environment() -> celpy.Environment:
    # cel-python raises the interpreter's recursion limit to 2500 when an Environment is built.
    return celpy.Environment()


def _describe(exc: BaseException) -> str:
    """cel-python errors carry (message, cause, args); keep the message, without the activation dump."""
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    if isinstance(exc, CELParseError) and line is not None:
        return f"syntax error at line {line}, column {column}"
    first = exc.args[0] if exc.args else exc
    text = str(first).strip()
    return text.split(" (in activation", 1)[0]


# -- cross-type numeric comparisons (cel-go's CrossTypeNumericComparisons + heterogeneous equality) -----


def _is_number(value: object) -> bool:
    return isinstance(value, celtypes.IntType | celtypes.UintType | celtypes.DoubleType)


def _num(value: Any) -> int | float:
    """Plain Python numbers compare exactly across int and float, which is what cel-go does."""
    return float(value) if isinstance(value, float) else int(value)


def _equal(a: Any, b: Any) -> Any:
    if isinstance(a, CELEvalError):
        return a
    if isinstance(b, CELEvalError):
        return b
    if _is_number(a) and _is_number(b):
        return celtypes.BoolType(_num(a) == _num(b))
    if isinstance(a, celtypes.BoolType) != isinstance(b, celtypes.BoolType):
        return celtypes.BoolType(False)
    try:
        return base_functions["_==_"](a, b)
    except TypeError:
        return celtypes.BoolType(False)  # values of different types are never equal


def _not_equal(a: Any, b: Any) -> Any:
    result = _equal(a, b)
    if isinstance(result, CELEvalError):
        return result
    return celtypes.BoolType(not result)


def _ordering(name: str, compare: Callable[[Any, Any], bool]) -> CELFunction:
    fallback = base_functions[name]

    def order(a: Any, b: Any) -> Any:
        if _is_number(a) and _is_number(b):
            return celtypes.BoolType(compare(_num(a), _num(b)))
        return fallback(a, b)

    return order


# -- ext.Strings (the subset health expressions use) -----------------------------------------------------


def _check_str(*values: object) -> None:
    for value in values:
        if not isinstance(value, str):
            raise TypeError("no such overload")


def _char_at(s: str, i: int) -> Any:
    _check_str(s)
    if not 0 <= i <= len(s):
        raise ValueError(f"index out of range: {i}")
    return celtypes.StringType(s[i : i + 1])


def _index_of(s: str, sub: str, offset: int = 0) -> Any:
    _check_str(s, sub)
    if not 0 <= offset <= len(s):
        raise ValueError(f"index out of range: {offset}")
    return celtypes.IntType(s.find(sub, offset))


def _last_index_of(s: str, sub: str, offset: int | None = None) -> Any:
    _check_str(s, sub)
    if offset is None:
        return celtypes.IntType(s.rfind(sub))
    if not 0 <= offset <= len(s):
        raise ValueError(f"index out of range: {offset}")
    return celtypes.IntType(s.rfind(sub, 0, offset + len(sub)))


def _ascii(s: str, upper: bool) -> Any:
    _check_str(s)
    table = _UPPER if upper else _LOWER
    return celtypes.StringType(s.translate(table))


_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UPPER: Final = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _replace(s: str, old: str, new: str, n: int = -1) -> Any:
    _check_str(s, old, new)
    return celtypes.StringType(s.replace(old, new, n if n >= 0 else -1))


def _split(s: str, sep: str, n: int = -1) -> Any:
    _check_str(s, sep)
    if n == 0:
        parts: list[str] = []
    elif sep == "":
        chars = list(s)
        parts = chars if n < 0 or n >= len(chars) else [*chars[: n - 1], "".join(chars[n - 1 :])]
    else:
        parts = s.split(sep, n - 1 if n > 0 else -1)
    return celtypes.ListType(celtypes.StringType(p) for p in parts)


def _substring(s: str, start: int, end: int | None = None) -> Any:
    _check_str(s)
    stop = len(s) if end is None else int(end)
    if not 0 <= start <= stop <= len(s):
        raise ValueError(f"substring out of range: [{start}:{stop}]")
    return celtypes.StringType(s[start:stop])


def _trim(s: str) -> Any:
    _check_str(s)
    return celtypes.StringType(s.strip())


def _join(items: list[Any], sep: str = "") -> Any:
    if not isinstance(items, list):
        raise TypeError("no such overload")
    _check_str(sep, *items)
    return celtypes.StringType(sep.join(items))


def _reverse(s: str) -> Any:
    _check_str(s)
    return celtypes.StringType(s[::-1])


_FUNCTIONS: Final[dict[str, CELFunction]] = {
    "_==_": _equal,
    "_!=_": _not_equal,
    "_<_": _ordering("_<_", lambda a, b: a < b),
    "_<=_": _ordering("_<=_", lambda a, b: a <= b),
    "_>_": _ordering("_>_", lambda a, b: a > b),
    "_>=_": _ordering("_>=_", lambda a, b: a >= b),
    "charAt": _char_at,
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "lowerAscii": lambda s: _ascii(s, upper=False),
    "upperAscii": lambda s: _ascii(s, upper=True),
    "replace": _replace,
    "split": _split,
    "substring": _substring,
    "trim": _trim,
    "join": _join,
    "reverse": _reverse,
}
