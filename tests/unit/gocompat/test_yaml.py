"""go-yaml v2 as sigs.k8s.io/yaml uses it: quoting (double quotes for strings that would read back as
another type, single quotes for indicators), natural key order, literal blocks, Go float formatting, and
plain scalars written and read back the way Go does.

The expected values of the Go cases come from gopkg.in/yaml.v2 v2.4.0 and sigs.k8s.io/yaml v1.4.0 (go1.26):
leading-dot floats (Go's ParseFloat takes "_" between digits and refuses overflow and non-ASCII digits),
signed integers beyond int64, which are floats or strings in Go, and explicit tags that do not fit their value.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gotk.gocompat import yaml as goyaml


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


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("main", "main"),
        ("", '""'),
        ("true", '"true"'),
        ("y", '"y"'),
        ("off", '"off"'),
        ("null", '"null"'),
        ("~", '"~"'),
        ("8080", '"8080"'),
        ("0x1F", '"0x1F"'),
        ("1e3", '"1e3"'),
        ("1.5", '"1.5"'),
        (".5", '".5"'),
        ("2026-01-02", '"2026-01-02"'),
        ("1:20", '"1:20"'),
        ("<<", '"<<"'),
        ("*", "'*'"),
        ("6.3.5", "6.3.5"),
        ("c88a2f41", "c88a2f41"),
        ("1234e56x", "1234e56x"),
        ("=", "="),
        ("[127.0.0.1]:22 ssh-ed25519 AAAA", "'[127.0.0.1]:22 ssh-ed25519 AAAA'"),
        ("a: b", "'a: b'"),
    ],
)
def test_scalar_quoting(value: str, expected: str) -> None:
    assert goyaml.dump({"k": value}) == f"k: {expected}\n"


def test_key_order_literal_blocks_and_sequences() -> None:
    doc = {
        "spec": {"sparseCheckout": ["a", "b"], "ignore": "x\ny", "a10": 1, "a9": 2, "caFile": 1, "ca.crt": 2},
        "apiVersion": "v1",
        "data": {"identity.pub": "ssh-ed25519 AAAA\n", "identity": "k"},
        "empty": {},
        "none": [],
    }
    assert goyaml.dump(doc) == (
        "apiVersion: v1\n"
        "data:\n"
        "  identity: k\n"
        "  identity.pub: |\n"
        "    ssh-ed25519 AAAA\n"
        "empty: {}\n"
        "none: []\n"
        "spec:\n"
        "  a9: 2\n"
        "  a10: 1\n"
        "  ca.crt: 2\n"
        "  caFile: 1\n"
        "  ignore: |-\n"
        "    x\n"
        "    y\n"
        "  sparseCheckout:\n"
        "  - a\n"
        "  - b\n"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.0, "1"), (0.5, "0.5"), (1e6, "1e+06"), (123456.0, "123456"), (1.5e-7, "1.5e-07"), (-2.25, "-2.25")],
)
def test_go_float(value: float, expected: str) -> None:
    assert goyaml.go_float(value) == expected
