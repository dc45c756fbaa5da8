"""Bash-like ``${var}`` expansion with the semantics of Flux's envsubst (fluxcd/pkg, forked from drone/envsubst).

Pure; gotk.kustomize.substitute.varsub runs it on each object's YAML text in postBuild.
Lengths, offsets and pattern trims count UTF-8 bytes as Go does; bytes that do not decode are carried
as surrogate escapes. Error messages match Flux's, with the variable and text offset as attributes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gotk.gocompat import strconv

__all__ = ["SubstitutionError", "envsubst"]


class SubstitutionError(ValueError):
    """The text could not be parsed, or strict mode met a variable that is not set."""

    def __init__(self, message: str, *, variable: str | None = None, position: int | None = None) -> None:
        super().__init__(message)
        self.variable = variable
        self.position = position


@dataclass(frozen=True, slots=True)
class _Expr:
    """One ``${...}`` expression: the variable, the operator (``""`` for a bare ``${var}``) and its arguments."""

    param: str
    op: str
    args: tuple[_Node, ...]
    position: int


_Node = str | _Expr

# Operators that supply their own fallback, so strict mode lets them read an unset variable.
_DEFAULT_OPS = frozenset({"=", ":=", ":-", ":?", ":+"})
_MAX_DEPTH = 64
_NEEDS_WORK = re.compile(r"\$[{$]|\x00")  # text without these comes back unchanged

# Where a literal run stops, per context; "$" and "\\" are looked at for "${" and escapes.
_TOP = re.compile(r"\$")
_UNTIL_CLOSE = re.compile(r"[$}]")
_UNTIL_COLON = re.compile(r"[$:}]")
_UNTIL_CLOSE_ESC = re.compile(r"[$}\\]")
_UNTIL_SLASH_ESC = re.compile(r"[$/\\]")


def envsubst(text: str, variables: Mapping[str, str], *, strict: bool) -> str:
    """Expand every ``${...}`` expression in ``text``; ``$${x}`` yields a literal ``${x}``.

    Without ``strict`` an unset variable reads as empty. With it, reading an unset variable raises
    SubstitutionError unless the operator supplies a default (``=``, ``:=``, ``:-``, ``:?``, ``:+``).
    Like Flux, ``$var`` is not expanded and a NUL character ends the text.
    """
    if _NEEDS_WORK.search(text) is None:
        return text
    nodes = _Parser(text).parse()
    return "".join(_evaluate(node, variables, strict) for node in nodes)


class _Parser:
    """Recursive descent over the text, reproducing the Go scanner's accept and reject rules."""

    def __init__(self, text: str) -> None:
        nul = text.find("\x00")
        self.text, self.nul = (text, False) if nul < 0 else (text[:nul], True)
        self.i = self.depth = 0

    def fail(self, message: str) -> SubstitutionError:
        return SubstitutionError(message, position=self.i)

    def parse(self) -> list[_Node]:
        nodes: list[_Node] = []
        while self.i < len(self.text):
            nodes.append(self.expression() if self.text.startswith("${", self.i) else self.literal(_TOP, "$"))
        return nodes

    def literal(self, stop: re.Pattern[str], escapes: str) -> str:
        """Consume text up to a stop character or ``${``; ``escapes`` holds the escape characters allowed."""
        text, i, out = self.text, self.i, []
        while (match := stop.search(text, i)) is not None:
            out.append(text[i : match.start()])
            i = match.start()
            char, following = text[i], text[i + 1 : i + 2]
            if (char == "$" and following == "{") or char not in "$\\":
                break
            escaped = char in escapes and (following == "$" if char == "$" else following in ("/", "\\") and following)
            out.append(following if escaped else char)
            i += 2 if escaped else 1
        else:
            out.append(text[i:])
            i = len(text)
        self.i = i
        return "".join(out)

    def argument(self, stop: re.Pattern[str], escapes: str = "") -> _Node:
        """A nested expression or a non-empty literal run; anything else is an error."""
        if self.text.startswith("${", self.i):
            return self.expression()
        start = self.i
        value = self.literal(stop, escapes)
        if self.i == start:
            raise self.fail("unable to parse substitution within function")
        return value

    def peek(self, offset: int = 0) -> str:
        return self.text[self.i + offset : self.i + offset + 1]

    def take(self, allowed: str, limit: int = 1 << 62) -> str:
        """Consume up to ``limit`` characters from ``allowed``."""
        start = self.i
        while self.i - start < limit and self.peek() and self.peek() in allowed:
            self.i += 1
        return self.text[start : self.i]

    def close(self, message: str = "bad substitution") -> None:
        if self.peek() != "}":
            raise self.fail(message)
        self.i += 1

    def expression(self) -> _Expr:
        start, self.i, self.depth = self.i, self.i + 2, self.depth + 1
        if self.depth > _MAX_DEPTH:
            raise self.fail("expressions nested too deeply")
        length = self.take("#", 1)  # ${#var}
        name = self.name()
        if not name:
            raise self.fail("bad substitution" if length else "unable to parse variable name")
        op, args = ("#", []) if length else self.operation()
        self.close("missing closing brace" if not op else "bad substitution")
        self.depth -= 1
        return _Expr(name, op, tuple(args), start)

    def name(self) -> str:
        """Go's unicode.IsLetter, unicode.IsDigit (category Nd) and "_"."""
        start, text = self.i, self.text
        while self.i < len(text) and (text[self.i] == "_" or text[self.i].isalpha() or text[self.i].isdecimal()):
            self.i += 1
        return text[start : self.i]

    def operation(self) -> tuple[str, list[_Node]]:
        """Parse what follows the name up to (not including) the closing brace."""
        char, following, args = self.peek(), self.peek(1), []
        if (char == ":" and following and following in "=-?+") or char == "=":
            op = self.take(":", 1) + self.take("=-?+", 1)
            while self.peek() != "}":
                args.append(self.argument(_UNTIL_CLOSE))
        elif char == ":":
            if (not following and not self.nul) or (following and not following.isascii()):
                raise self.fail("bad substitution")  # Go re-reads from a wrong offset here
            op = self.take(":", 1)
            args.append(self.argument(_UNTIL_COLON))
            if self.take(":"):
                args.append(self.argument(_UNTIL_CLOSE))
        elif char and char in ",^":
            op = self.take(",^", 2)
        elif char == "/":
            op = self.take("/", 1) + self.take("/#%", 1)
            args.append(self.argument(_UNTIL_SLASH_ESC, "$\\"))
            if not self.take("/"):
                raise self.fail("bad substitution")
            if self.peek() != "}":
                args.append(self.argument(_UNTIL_CLOSE_ESC, "$\\"))
        elif char and char in "#%":
            op = self.take(char, 2)
            args.append(self.argument(_UNTIL_CLOSE))
        else:
            op = ""
        return op, args


def _evaluate(node: _Node, variables: Mapping[str, str], strict: bool) -> str:
    if isinstance(node, str):
        return node
    args = [_evaluate(arg, variables, strict) for arg in node.args]
    value = variables.get(node.param)
    if value is None:
        if strict and node.op not in _DEFAULT_OPS:
            raise SubstitutionError(
                f'variable not set (strict mode): "{node.param}"', variable=node.param, position=node.position
            )
        value = ""
    if node.op == ":":
        return _substring(value, args, node)
    return _apply(node.op, value, args)


# --- string functions, chosen as Go's lookupFunc does by operator and argument count ---------------


def _apply(op: str, value: str, args: list[str]) -> str:
    if op in ("^", ",") and value:
        return _case(value[0], upper=op == "^") + value[1:]
    if op in ("^^", ",,"):
        return _case(value, upper=op == "^^")
    if op == "#" and not args:
        return str(len(_to_bytes(value)))
    if op in ("#", "##"):
        return _trim_prefix(value, args[0], longest=op == "##")
    if op in ("%", "%%"):
        return _trim_suffix(value, args[0], longest=op == "%%")
    if op in ("/", "//"):
        return value.replace(args[0], args[1] if len(args) > 1 else "", 1 if op == "/" else -1)
    if op == "/#" and len(args) == 2 and value.startswith(args[0]):
        return value.replace(args[0], args[1], 1)
    if op == "/%" and len(args) == 2 and value.endswith(args[0]):
        return value[: len(value) - len(args[0])] + args[1]
    if op in ("/#", "/%", "^", ","):
        return value
    return "".join(args) if not value and args else value  # bare ${var}, defaults, and ",^" fall back here


def _to_bytes(value: str) -> bytes:
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


def _from_bytes(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _runes(value: str) -> list[str]:
    """Go's []rune(s): every undecodable byte becomes U+FFFD."""
    return ["\ufffd" if "\ud800" <= char <= "\udfff" else char for char in value]


def _case(value: str, *, upper: bool) -> str:
    if value.isascii():
        return value.upper() if upper else value.lower()
    return "".join(_case_rune(char, upper) for char in _runes(value))


def _case_rune(char: str, upper: bool) -> str:
    """unicode.ToUpper/ToLower use the simple one-rune mapping; Python's full mapping may give several."""
    candidates = (char.upper(), char.title()) if upper else ("i" if char == "\u0130" else char.lower(),)
    return next((mapped for mapped in candidates if len(mapped) == 1), char)


def _substring(value: str, args: list[str], node: _Expr) -> str:
    data = _to_bytes(value)
    position, size = strconv.atoi(args[0]), len(data)
    if position is None:
        return value
    if position < 0:
        position = max(size + position, 0)
    length = strconv.atoi(args[1]) if len(args) > 1 else strconv.INT64_MAX - position
    if length is None:
        return value
    end = (position + length - strconv.INT64_MIN) % (1 << 64) + strconv.INT64_MIN  # Go's int64 arithmetic wraps
    if end >= size:
        return _from_bytes(data[position:]) if position < size else ""
    if end < position:  # Go panics on this slice; report it as a substitution error
        message = f"slice bounds out of range [{position}:{end}]"
        raise SubstitutionError(message, variable=node.param, position=node.position)
    return _from_bytes(data[position:end])


def _trim_prefix(value: str, pattern: str, *, longest: bool) -> str:
    """Strip the shortest (or longest) non-empty byte prefix matching the glob ``pattern``."""
    data, glob, found = _to_bytes(value), _to_bytes(pattern), 0
    try:
        for size in range(len(data), 0, -1):
            if _glob_match(glob, data[:size]):
                found = size
                if longest:
                    break
    except _BadPattern:
        return value
    return _from_bytes(data[found:]) if found else value


def _trim_suffix(value: str, pattern: str, *, longest: bool) -> str:
    """Go reverses both strings rune-wise, trims a prefix, and reverses back."""
    reversed_value, reversed_pattern = "".join(reversed(_runes(value))), "".join(reversed(_runes(pattern)))
    return "".join(reversed(_runes(_trim_prefix(reversed_value, reversed_pattern, longest=longest))))


# --- glob matching on bytes, as Flux's fork of Go's path.Match (``*`` and ``?`` also match "/") -------


class _BadPattern(Exception):
    """The pattern is malformed where the matcher reached it (errors are lazy, as in Go)."""


def _decode_rune(data: bytes) -> tuple[int, int]:
    """Go's utf8.DecodeRune: (code point, width), or (U+FFFD, 1) for an invalid sequence."""
    lead = data[0]
    if lead < 0x80:
        return lead, 1
    width = 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4 if 0xF0 <= lead <= 0xF4 else 0
    if width:
        try:
            return ord(data[:width].decode("utf-8")), width
        except UnicodeDecodeError:
            pass
    return 0xFFFD, 1


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    """Split off leading stars and the star-free chunk that follows them."""
    stripped = pattern.lstrip(b"*")
    star, pattern = len(stripped) != len(pattern), stripped
    in_range, index = False, 0
    while index < len(pattern):
        char = pattern[index]
        if char == 0x5C and index + 1 < len(pattern):  # backslash
            index += 1
        elif char == 0x5B:  # [
            in_range = True
        elif char == 0x5D:  # ]
            in_range = False
        elif char == 0x2A and not in_range:  # *
            break
        index += 1
    return star, pattern[:index], pattern[index:]


def _class_char(chunk: bytes) -> tuple[int, bytes]:
    if not chunk or chunk[0] in b"-]":
        raise _BadPattern
    if chunk[0] == 0x5C:
        chunk = chunk[1:]
        if not chunk:
            raise _BadPattern
    rune, width = _decode_rune(chunk)
    if (rune == 0xFFFD and width == 1) or len(chunk) == width:
        raise _BadPattern
    return rune, chunk[width:]


def _match_chunk(chunk: bytes, name: bytes) -> bytes | None:
    """Match ``chunk`` at the start of ``name``; return the rest of ``name``, or None."""
    while chunk:
        if not name:
            return None
        head = chunk[0]
        if head == 0x5B:  # [class]
            rune, width = _decode_rune(name)
            name, chunk = name[width:], chunk[1:]
            negated = chunk[:1] == b"^"
            if negated:
                chunk = chunk[1:]
            matched, ranges = False, 0
            while not (chunk[:1] == b"]" and ranges):
                low, chunk = _class_char(chunk)
                high = low
                if chunk[0] == 0x2D:  # -
                    high, chunk = _class_char(chunk[1:])
                matched = matched or low <= rune <= high
                ranges += 1
            chunk = chunk[1:]
            if matched == negated:
                return None
        elif head == 0x3F:  # ?
            name, chunk = name[_decode_rune(name)[1] :], chunk[1:]
        else:
            if head == 0x5C:
                chunk = chunk[1:]
                if not chunk:
                    raise _BadPattern
            if chunk[0] != name[0]:
                return None
            name, chunk = name[1:], chunk[1:]
    return name


def _glob_match(pattern: bytes, name: bytes) -> bool:
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return True
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        if not star:
            return False
        for skip in range(1, len(name) + 1):
            rest = _match_chunk(chunk, name[skip:])
            if rest is not None and (pattern or not rest):
                name = rest
                break
        else:
            return False
    return not name
