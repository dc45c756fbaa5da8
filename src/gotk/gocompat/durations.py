"""Go-style durations (`1m30s`, `500ms`, `1.5h`) as Flux's API and flags write them: `parse`/`format_seconds`
for float seconds, and Go's exact `time.ParseDuration` (`parse_ns`) and `Duration.String` (`format_ns`,
`go_string`) in integer nanoseconds."""

from __future__ import annotations

import re

_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse(text: str) -> float:
    """Seconds in a Go duration string; raises ValueError naming the bad input."""
    value = text.strip()
    if value in ("0", ""):
        if value == "":
            raise ValueError("empty duration")
        return 0.0
    pos = 0
    total = 0.0
    for match in _PART.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(value) or pos == 0:
        raise ValueError(f"invalid duration {text!r}")
    return total


def format_seconds(seconds: float) -> str:
    """A short Go-like rendering: 90 -> `1m30s`, 0.5 -> `500ms`."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = round(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    out = ""
    if h:
        out += f"{h}h"
    if m or (h and s):
        out += f"{m}m"
    if s or not out:
        out += f"{s}s"
    return out


# -- Go-exact: time.ParseDuration and Duration.String in integer nanoseconds --------------------------------

NANOSECOND = 1
MICROSECOND = 1000
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
_NS_UNITS = {"ns": NANOSECOND, "us": MICROSECOND, "µs": MICROSECOND, "μs": MICROSECOND, "ms": MILLISECOND}
_NS_UNITS |= {"s": SECOND, "m": MINUTE, "h": HOUR}
_MAX = 1 << 63


def parse_ns(text: str) -> int:
    """time.ParseDuration: nanoseconds in `text`; ValueError carries Go's message."""
    invalid = ValueError(f'time: invalid duration "{text}"')
    s, negative = text, False
    if s[:1] in ("-", "+"):
        negative, s = s[0] == "-", s[1:]
    if s == "0":
        return 0
    if not s:
        raise invalid
    total = 0
    while s:
        if not (s[0] == "." or s[0].isdigit()):
            raise invalid
        i = 0
        while i < len(s) and "0" <= s[i] <= "9":
            i += 1
        whole, s = int(s[:i] or "0"), s[i:]
        before = i > 0
        fraction, scale, after = 0, 1.0, False
        if s[:1] == ".":
            j = 1
            while j < len(s) and "0" <= s[j] <= "9":
                j += 1
            digits, s = s[1:j], s[j:]
            after = bool(digits)
            if digits:
                fraction, scale = int(digits), float(10 ** len(digits))
        if not before and not after:
            raise invalid
        k = 0
        while k < len(s) and not (s[k] == "." or "0" <= s[k] <= "9"):
            k += 1
        if k == 0:
            raise ValueError(f'time: missing unit in duration "{text}"')
        unit_name, s = s[:k], s[k:]
        unit = _NS_UNITS.get(unit_name)
        if unit is None:
            raise ValueError(f'time: unknown unit "{unit_name}" in duration "{text}"')
        value = whole * unit + (int(fraction * (unit / scale)) if fraction else 0)
        total += value
        if total > _MAX:
            raise invalid
    if not negative and total > _MAX - 1:
        raise invalid
    return -total if negative else total


def _frac(value: int, precision: int) -> tuple[str, int]:
    """Go's fmtFrac: the fraction of value/10**precision without trailing zeros, and the integer part."""
    digits = ""
    printed = False
    for _ in range(precision):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits = str(digit) + digits
        value //= 10
    return ("." + digits if printed else ""), value


def format_ns(ns: int) -> str:
    """time.Duration.String: 90s -> `1m30s`, 1h -> `1h0m0s`, 0.5s -> `500ms`."""
    if ns == 0:
        return "0s"
    sign, u = ("-", -ns) if ns < 0 else ("", ns)
    if u < SECOND:
        if u < MICROSECOND:
            return f"{sign}{u}ns"
        unit, precision = ("µs", 3) if u < MILLISECOND else ("ms", 6)
        fraction, whole = _frac(u, precision)
        return f"{sign}{whole}{fraction}{unit}"
    fraction, seconds = _frac(u, 9)
    out = f"{seconds % 60}{fraction}s"
    minutes = seconds // 60
    if minutes:
        out = f"{minutes % 60}m{out}"
        hours = minutes // 60
        if hours:
            out = f"{hours}h{out}"
    return sign + out


def go_string(seconds: float) -> str:
    """Seconds as Go's Duration.String writes them: 300 -> `5m0s`, 1.5 -> `1.5s`."""
    return format_ns(round(seconds * SECOND))
