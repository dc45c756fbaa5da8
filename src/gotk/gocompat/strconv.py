"""Go's strconv for numbers and booleans: FormatFloat with the shortest digits (float64 or float32), the
integer parsing go-yaml and Atoi do, and ParseBool's table.

Used by gotk.gocompat.yaml, gotk.gocompat.json, SOPS decryption (MAC input and dotenv output) and envsubst.
"""

from __future__ import annotations

import math
import re
import struct
from decimal import Decimal
from typing import Literal

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "PARSE_BOOL",
    "UINT64_END",
    "atoi",
    "format_float",
    "parse_int",
    "to_float32",
]

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
UINT64_END = 1 << 64
"""One past the largest uint64."""

PARSE_BOOL = {s: True for s in ("1", "t", "T", "TRUE", "true", "True")} | {
    s: False for s in ("0", "f", "F", "FALSE", "false", "False")
}
"""strconv.ParseBool: the texts it accepts and what they mean."""

FloatFormat = Literal["e", "E", "f", "g", "G"]

_INT = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]*)|([1-9][0-9]*))")
_ATOI = re.compile(r"[+-]?0*([0-9]+)")


def format_float(value: float, fmt: FloatFormat = "g", *, bits: Literal[32, 64] = 64) -> str:
    """strconv.FormatFloat(value, fmt, -1, bits): the shortest digits that read back as the same float.

    With ``bits=32`` the value is first rounded to a float32 (too large: an infinity), as Go's float32(value).
    NaN and the infinities are spelled ``NaN``, ``+Inf`` and ``-Inf``, as Go spells them.
    """
    if bits == 32:
        value = to_float32(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    negative, digits, point = _shortest(value, bits)
    sign = "-" if negative else ""
    exponent = point - 1
    if fmt in "eE" or (fmt in "gG" and not -4 <= exponent < 6):  # %g: %e below 1e-4 and from 1e6 (shortest)
        mark = "e" if fmt in "eg" else "E"
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}{mark}{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def to_float32(value: float) -> float:
    """Go's float32(value): the nearest float32, an infinity when it is too large for one."""
    try:
        single: float = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)
    return single


def _shortest(value: float, bits: int) -> tuple[bool, str, int]:
    """(negative, digits, point) for a finite value: ``0.<digits> * 10**point``, digits without trailing zeros."""
    negative = math.copysign(1, value) < 0
    if value == 0:
        return negative, "0", 1
    if bits == 64:  # repr is the shortest round trip, and the closest of those, as Go's
        _, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
        assert isinstance(exponent, int)
        return negative, "".join(map(str, digit_tuple)).rstrip("0"), len(digit_tuple) + exponent
    magnitude = abs(value)
    for precision in range(9):  # the shortest correctly rounded digits that read back as the same float32
        mantissa, _, exponent_text = f"{magnitude:.{precision}e}".partition("e")
        if to_float32(float(f"{mantissa}e{exponent_text}")) == magnitude:
            break
    return negative, mantissa.replace(".", ""), int(exponent_text) + 1


def parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64), else ParseUint(text, 0, 64), as go-yaml tries them: decimal, ``0x``,
    ``0o``, ``0b`` or leading-``0`` octal, with an optional sign for ParseInt only. None if neither parses.

    No underscores: go-yaml removes them before it parses.
    """
    match = _INT.fullmatch(text)
    if match is None:
        return None
    sign, hexa, octal, binary, zero_octal, decimal = match.groups()
    choices = ((hexa, 16), (octal, 8), (binary, 2), (decimal, 10), (f"0{zero_octal}", 8))
    digits, base = next((digits, base) for digits, base in choices if digits)
    number = int(sign + digits, base)
    if INT64_MIN <= number <= INT64_MAX or (0 < number < UINT64_END and not sign):
        return number
    return None


def atoi(text: str) -> int | None:
    """strconv.Atoi on a 64-bit platform: optional sign, ASCII digits, within int64; None otherwise."""
    match = _ATOI.fullmatch(text)
    if match is None or len(match[1]) > 19:  # (int() refuses very long digit strings)
        return None
    number = int(text)
    return number if INT64_MIN <= number <= INT64_MAX else None
