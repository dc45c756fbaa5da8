"""gotk.gocompat.strconv against Go 1.26's strconv: FormatFloat with the shortest digits in every format,
float64 and float32, Atoi, and the ParseInt/ParseUint pair go-yaml resolves integers with.
"""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.gocompat import strconv

NAN, INF = math.nan, math.inf

# value, then FormatFloat(value, f, -1, 64) for f in g, f, G, e, and FormatFloat(value, 'g', -1, 32)
FORMATTED = [
    (0.0, "0", "0", "0", "0e+00", "0"),
    (-0.0, "-0", "-0", "-0", "-0e+00", "-0"),
    (1.0, "1", "1", "1", "1e+00", "1"),
    (-2.25, "-2.25", "-2.25", "-2.25", "-2.25e+00", "-2.25"),
    (0.1, "0.1", "0.1", "0.1", "1e-01", "0.1"),
    (1e6, "1e+06", "1000000", "1E+06", "1e+06", "1e+06"),
    (123456.0, "123456", "123456", "123456", "1.23456e+05", "123456"),
    (1234567.0, "1.234567e+06", "1234567", "1.234567E+06", "1.234567e+06", "1.234567e+06"),
    (1.5e-7, "1.5e-07", "0.00000015", "1.5E-07", "1.5e-07", "1.5e-07"),
    (1e-5, "1e-05", "0.00001", "1E-05", "1e-05", "1e-05"),
    (1e-4, "0.0001", "0.0001", "0.0001", "1e-04", "0.0001"),
    (1e21, "1e+21", "1" + "0" * 21, "1E+21", "1e+21", "1e+21"),
    (3.4028235e38, "3.4028235e+38", "34028235" + "0" * 31, "3.4028235E+38", "3.4028235e+38", "3.4028235e+38"),
    (1e39, "1e+39", "1" + "0" * 39, "1E+39", "1e+39", "+Inf"),
    (5e-324, "5e-324", "0." + "0" * 323 + "5", "5E-324", "5e-324", "0"),
    (0.1 + 0.2, "0.30000000000000004", "0.30000000000000004", "0.30000000000000004", "3.0000000000000004e-01", "0.3"),
    (16777217.0, "1.6777217e+07", "16777217", "1.6777217E+07", "1.6777217e+07", "1.6777216e+07"),
    (NAN, "NaN", "NaN", "NaN", "NaN", "NaN"),
    (INF, "+Inf", "+Inf", "+Inf", "+Inf", "+Inf"),
    (-INF, "-Inf", "-Inf", "-Inf", "-Inf", "-Inf"),
]


@pytest.mark.parametrize(("value", "g", "f", "G", "e", "g32"), FORMATTED)
def test_format_float_matches_go(value: float, g: str, f: str, G: str, e: str, g32: str) -> None:
    assert strconv.format_float(value, "g") == g
    assert strconv.format_float(value, "f") == f
    assert strconv.format_float(value, "G") == G
    assert strconv.format_float(value, "e") == e
    assert strconv.format_float(value, "g", bits=32) == g32


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_shortest_digits_read_back_as_the_same_float(value: float) -> None:
    for fmt in ("e", "f", "g"):
        assert float(strconv.format_float(value, fmt)) == value  # type: ignore[arg-type]


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_float32_digits_read_back_as_the_same_float32(value: float) -> None:
    text = strconv.format_float(value, "g", bits=32)
    assert struct.unpack("f", struct.pack("f", float(text)))[0] == value
    assert len(text.lstrip("-").split("e")[0].replace(".", "").lstrip("0")) <= 9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("-0012", -12),
        ("+7", 7),
        ("9223372036854775807", 9223372036854775807),
        ("9223372036854775808", None),
        ("00000000000000000000001", 1),
        ("1_0", None),
        ("0x10", None),
        (" 1", None),
        ("", None),
    ],
)
def test_atoi(text: str, expected: int | None) -> None:
    assert strconv.atoi(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0x1F", 31),
        ("-0x8000000000000000", -(1 << 63)),
        ("0x8000000000000000", 1 << 63),  # ParseUint
        ("+0x8000000000000000", None),  # ParseInt overflows, ParseUint takes no sign
        ("0o17", 15),
        ("017", 15),
        ("0b101", 5),
        ("-0b101", -5),
        ("09", None),
        ("0", 0),
        ("-0", 0),
        ("18446744073709551615", (1 << 64) - 1),
        ("18446744073709551616", None),
        ("-9223372036854775809", None),
    ],
)
def test_parse_int_then_uint(text: str, expected: int | None) -> None:
    assert strconv.parse_int(text) == expected
