"""gotk.gocompat.json against Go 1.26's encoding/json: float64 spelling, MarshalIndent with a tab indent,
HTML-safe escapes, []byte and time.Time values, and the error for NaN and infinities.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

import pytest

from gotk.gocompat import json as gojson


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0"),
        (-0.0, "-0"),
        (-2.25, "-2.25"),
        (1e6, "1000000"),
        (1.5e-7, "1.5e-7"),
        (1e-5, "0.00001"),
        (1e21, "1e+21"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (1e-7, "1e-7"),
        (16777217.0, "16777217"),
    ],
)
def test_floats_as_encoding_json_writes_them(value: float, expected: str) -> None:
    assert gojson.format_float(value) == expected


def test_marshal_indent() -> None:
    zone = timezone(-timedelta(hours=5, minutes=30))
    value = {
        "a<b": [1, "x&y\u2028", b"hi", None, True, {}, []],
        "t": datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=zone),
    }
    assert gojson.marshal_indent(value) == (
        '{\n\t"a\\u003cb": [\n\t\t1,\n\t\t"x\\u0026y\\u2028",\n\t\t"aGk=",\n\t\tnull,\n\t\ttrue,\n\t\t{},\n\t\t[]\n\t],'
        '\n\t"t": "2026-01-02T03:04:05.6-05:30"\n}'
    )


@pytest.mark.parametrize(("value", "spelled"), [(math.nan, "NaN"), (math.inf, "+Inf"), (-math.inf, "-Inf")])
def test_nan_and_infinities_are_refused(value: float, spelled: str) -> None:
    with pytest.raises(gojson.UnsupportedValueError, match=f"^json: unsupported value: {re.escape(spelled)}$"):
        gojson.marshal_indent({"v": [value]})
