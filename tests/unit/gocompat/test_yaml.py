"""go-yaml v2 as sigs.k8s.io/yaml uses it: plain scalars written and read back the way Go does.

The expected values come from gopkg.in/yaml.v2 v2.4.0 and sigs.k8s.io/yaml v1.4.0 (go1.26): leading-dot
floats (Go's ParseFloat takes "_" between digits and refuses overflow and non-ASCII digits), signed
integers beyond int64, which are floats or strings in Go, and explicit tags that do not fit their value.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gotk.cli import goyaml


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (".1_4", '".1_4"'),
        (".5e400", ".5e400"),
        (".07 ", "'.07 '"),
        (".15\u0665", ".15\u0665"),
        ("+0x8000000000000000", "+0x8000000000000000"),
        ("-0xffffffffffffffff", "-0xffffffffffffffff"),
        ("+9223372036854775808", '"+9223372036854775808"'),
        ("-18446744073709551615", '"-18446744073709551615"'),
        ("18446744073709551615", '"18446744073709551615"'),
        ("-9223372036854775808", '"-9223372036854775808"'),
        ("0b1_1", '"0b1_1"'),
        ("1_0e3", '"1_0e3"'),
        ("08", '"08"'),
    ],
)
def test_strings_are_quoted_as_go_yaml_resolves_them(value: str, expected: str) -> None:
    assert goyaml.dump({"k": value}) == f"k: {expected}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (".1_4", 0.14),
        (".5e400", ".5e400"),
        ("+0x8000000000000000", "+0x8000000000000000"),
        ("+9223372036854775808", 9.223372036854776e18),
        ("-18446744073709551615", -1.8446744073709552e19),
        ("18446744073709551615", 18446744073709551615),
        ("-9223372036854775808", -9223372036854775808),
        ("0b1_1", 3),
        ("08", 8.0),
        ("!foo 12", "12"),
    ],
)
def test_plain_scalars_load_as_go_yaml_decodes_them(text: str, expected: Any) -> None:
    value = goyaml.load(f"v: {text}\n")["v"]
    assert type(value) is type(expected)
    assert value == expected


@pytest.mark.parametrize("text", ["!!bool maybe", "!!null x", "!!int abc", "!!bool"])
def test_a_tag_its_value_does_not_fit_is_an_error(text: str) -> None:
    with pytest.raises(yaml.YAMLError, match="cannot decode"):
        goyaml.load(f"v: {text}\n")
