"""gotk.kustomize.substitute.envsubst: every expansion form of Flux's envsubst (defaults, substrings, replacements,
pattern trims, case changes, length), `$${x}` escapes, strict and non-strict modes, Go's parse errors and
their messages, byte-oriented lengths and offsets, and properties over arbitrary input.
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gotk.kustomize.substitute.envsubst import SubstitutionError, envsubst

VARS = {
    "var": "abcdEFGH28ij",
    "upper": "ABCDEFGH28IJ",
    "path": "/home/bozo/ideas/thoughts.for.today",
    "file": "bash.string.txt",
    "z": "abcABC123ABCabc",
    "slashes": "foo/bar/baz",
    "empty": "",
    "r": "3",
    "accent": "héllo",
    "sharp": "straße",
    "dotted": "İSTANBUL",
    "spaced": "a b c",
    "n": "-2",
}

# (text, expected) with VARS; every case also holds in strict mode unless it reads an unset variable.
CASES: list[tuple[str, str]] = [
    # plain text, escapes and what is not an expression
    ("abcdEFGH28ij", "abcdEFGH28ij"),
    ("", ""),
    ("${var}", "abcdEFGH28ij"),
    ("pre ${var} post", "pre abcdEFGH28ij post"),
    ("${var}${r}", "abcdEFGH28ij3"),
    ("$var and $r", "$var and $r"),
    ("$${var}", "${var}"),
    ("$$", "$"),
    ("$$$", "$$"),
    ("$$${r}", "$3"),
    ("cost: $$5 or $5", "cost: $5 or $5"),
    ("a $ b", "a $ b"),
    ("trailing $", "trailing $"),
    ("$${var=${r}}", "${var=3}"),
    ("\\\\x ${r}", "\\\\x 3"),
    ("{r} }}", "{r} }}"),
    # defaults: only :=, :-, = (and the odd :? and :+, which behave the same) parse; all test emptiness
    ("${unset:=dev}", "dev"),
    ("${unset:-dev}", "dev"),
    ("${unset=dev}", "dev"),
    ("${empty:=dev}", "dev"),
    ("${empty=dev}", "dev"),
    ("${r:=dev}", "3"),
    ("${r:-dev}", "3"),
    ("${unset:?message}", "message"),
    ("${unset:+alt}", "alt"),
    ("${r:+alt}", "3"),
    ("${unset:=}", ""),
    ("${unset:=a b: c/d:e}", "a b: c/d:e"),
    ("${unset:=${r}}", "3"),
    ("${unset:=x${r}y${r}}", "x3y3"),
    ("${unset:=${also_unset:=deep}}", "deep"),
    ("${unset==x}", "=x"),
    ("${unset:=$$x}", "$$x"),
    ("${unset:-\\/}", "\\/"),
    # substrings count bytes, as Go does
    ("${path:11}", "ideas/thoughts.for.today"),
    ("${path:11:5}", "ideas"),
    ("${var:0:4}", "abcd"),
    ("${var:100}", ""),
    ("${var:8:100}", "28ij"),
    ("${var:${n}}", "ij"),
    ("${var:x}", "abcdEFGH28ij"),
    ("${var:1::2}", "bc"),
    ("${var:+0002}", "abcdEFGH28ij"),  # ":+" is a default operator, not a signed offset
    ("${accent:1:2}", "é"),
    ("${var:1:2:3}", "abcdEFGH28ij"),
    # replacements take literal text, with \/ and \\ escapes
    ("${z/abc/xyz}", "xyzABC123ABCabc"),
    ("${z//abc/xyz}", "xyzABC123ABCxyz"),
    ("${z/#abc/XYZ}", "XYZABC123ABCabc"),
    ("${z/%abc/XYZ}", "abcABC123ABCXYZ"),
    ("${z/#ABC/XYZ}", "abcABC123ABCabc"),
    ("${z/abc/}", "ABC123ABCabc"),
    ("${z//abc/}", "ABC123ABC"),
    ("${z/#abc/}", "abcABC123ABCabc"),  # prefix and suffix replacement need both arguments
    ("${slashes/\\//-}", "foo-bar/baz"),
    ("${slashes//\\//-}", "foo-bar-baz"),
    ("${spaced// /_}", "a_b_c"),
    ("${z/a*/X}", "abcABC123ABCabc"),
    ("${r/3/$${x}}", "${x}"),
    ("${z/abc//x}", "xABC123ABCabc"),
    ("${z/}/x}", "abcABC123ABCabc"),
    # pattern trims use globs: * ? [class] (and * and ? match "/" too)
    ("${file#*.}", "string.txt"),
    ("${file##*.}", "txt"),
    ("${file%.*}", "bash.string"),
    ("${file%%.*}", "bash"),
    ("${path#*/}", "home/bozo/ideas/thoughts.for.today"),
    ("${path##*/}", "thoughts.for.today"),
    ("${path%/*}", "/home/bozo/ideas"),
    ("${var#[a-c]}", "bcdEFGH28ij"),
    ("${var#[^a]}", "abcdEFGH28ij"),
    ("${var#??}", "cdEFGH28ij"),
    ("${var#*}", "bcdEFGH28ij"),
    ("${var##*}", ""),
    ("${var#nomatch}", "abcdEFGH28ij"),
    ("${var#[}", "abcdEFGH28ij"),
    ("${var#\\a}", "bcdEFGH28ij"),
    ("${var###}", "abcdEFGH28ij"),
    ("${var%${var:8}}", "abcdEFGH"),
    # case changes use Go's simple (one rune) mappings
    ("${var^}", "AbcdEFGH28ij"),
    ("${var^^}", "ABCDEFGH28IJ"),
    ("${upper,}", "aBCDEFGH28IJ"),
    ("${upper,,}", "abcdefgh28ij"),
    ("${accent^^}", "HÉLLO"),
    ("${sharp^^}", "STRAßE"),
    ("${dotted,,}", "istanbul"),
    ("${var,^}", "abcdEFGH28ij"),
    ("${empty^}", ""),
    # length counts bytes
    ("${#var}", "12"),
    ("${#accent}", "6"),
    ("${#empty}", "0"),
    # names are Unicode letters, digits and _
    ("${_}", ""),
    ("${1x}", ""),
    ("${é}", ""),
    # nesting
    ("${unset:=${var^^}}", "ABCDEFGH28IJ"),
    ("${var/${r}/x}", "abcdEFGH28ij"),
    ("${unset:=a${unset:=b${unset:=c}}}", "abc"),
    # a NUL ends the text, as in Go's scanner
    ("a\x00${r}", "a"),
]

ERRORS: list[tuple[str, str]] = [
    ("${var", "missing closing brace"),
    ("${var-default}", "missing closing brace"),
    ("${var+alt}", "missing closing brace"),
    ("${var?err}", "missing closing brace"),
    ("${var }", "missing closing brace"),
    ("${}", "unable to parse variable name"),
    ("${-x}", "unable to parse variable name"),
    ("${#}", "bad substitution"),
    ("${#var:-x}", "bad substitution"),
    ("${var:}", "unable to parse substitution within function"),
    ("${var:1:}", "unable to parse substitution within function"),
    ("${var:", "bad substitution"),
    ("${var:é}", "bad substitution"),
    ("${var:1x${r}}", "bad substitution"),
    ("${var#}", "unable to parse substitution within function"),
    ("${var#a${r}}", "bad substitution"),
    ("${var///x}", "unable to parse substitution within function"),
    ("${var/a", "bad substitution"),
    ("${var/a}", "bad substitution"),
    ("${var/a/", "unable to parse substitution within function"),
    ("${var/a/b${r}}", "bad substitution"),
    ("${var^^^}", "bad substitution"),
    ("${var:=x", "unable to parse substitution within function"),
    ("${var:1:-1}", "slice bounds out of range [1:0]"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_expansion(text: str, expected: str) -> None:
    assert envsubst(text, VARS, strict=False) == expected


READS_UNSET = ("unset", "${_}", "${1x}", "${é}")


@pytest.mark.parametrize(("text", "expected"), [case for case in CASES if not any(u in case[0] for u in READS_UNSET)])
def test_expansion_strict(text: str, expected: str) -> None:
    assert envsubst(text, VARS, strict=True) == expected


@pytest.mark.parametrize(("text", "message"), ERRORS)
@pytest.mark.parametrize("strict", [False, True])
def test_errors(text: str, message: str, strict: bool) -> None:
    with pytest.raises(SubstitutionError) as caught:
        envsubst(text, VARS, strict=strict)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "text",
    ["${missing}", "${#missing}", "${missing^^}", "${missing:0:1}", "${missing/a/b}", "${missing%%x}", "x ${missing}"],
)
def test_strict_refuses_unset_variables(text: str) -> None:
    with pytest.raises(SubstitutionError) as caught:
        envsubst(text, VARS, strict=True)
    assert str(caught.value) == 'variable not set (strict mode): "missing"'
    assert caught.value.variable == "missing"
    assert caught.value.position == text.index("${")
    assert envsubst(text, VARS, strict=False) == envsubst(text, {**VARS, "missing": ""}, strict=True)


@pytest.mark.parametrize("text", ["${missing:=d}", "${missing:-d}", "${missing=d}", "${missing:?d}", "${missing:+d}"])
def test_strict_allows_unset_variables_with_defaults(text: str) -> None:
    assert envsubst(text, {}, strict=True) == "d"


def test_strict_accepts_variables_set_to_empty() -> None:
    assert envsubst("[${e}]", {"e": ""}, strict=True) == "[]"


def test_strict_checks_defaults_even_when_unused() -> None:
    """Go evaluates the arguments before it looks at the variable."""
    with pytest.raises(SubstitutionError, match='"inner"'):
        envsubst("${r:-${inner}}", VARS, strict=True)


def test_parse_errors_come_before_strict_errors() -> None:
    with pytest.raises(SubstitutionError, match="missing closing brace"):
        envsubst("${missing} ${broken", {}, strict=True)


def test_multiline_yaml_text() -> None:
    text = "data:\n  script: |\n    echo ${r}\n    echo $${HOME} $PATH\n  other: ${unset:=x}\n"
    expected = "data:\n  script: |\n    echo 3\n    echo ${HOME} $PATH\n  other: x\n"
    assert envsubst(text, VARS, strict=True) == expected


def test_substring_splitting_a_character_keeps_the_bytes() -> None:
    """Go slices bytes; an undecodable result is carried as surrogate escapes."""
    out = envsubst("${accent:0:2}", VARS, strict=True)
    assert out.encode("utf-8", "surrogateescape") == b"h\xc3"
    assert envsubst("${#x}", {"x": out}, strict=True) == "2"


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    text = "${a:=" * 500 + "}" * 500
    with pytest.raises(SubstitutionError, match="nested too deeply"):
        envsubst(text, {}, strict=False)


def test_long_digit_strings_are_not_offsets() -> None:
    assert envsubst("${var:" + "9" * 5000 + "}", VARS, strict=True) == VARS["var"]


# --- properties ---------------------------------------------------------------------------------------

NAMES = st.from_regex(r"[_a-zA-Z][_a-zA-Z0-9]{0,8}", fullmatch=True)
VARIABLES = st.dictionaries(NAMES, st.text(max_size=12), max_size=4)
NO_DOLLAR = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="$\x00"), max_size=60)
SYNTAX = st.sampled_from(["${", "}", "$", "$$", ":", "/", "#", "%", "^", ",", "=", "-", "+", "?", "*", "[", "]", "\\"])
NOISY = st.lists(st.one_of(SYNTAX, NAMES, st.text(max_size=3)), max_size=25).map("".join)


@given(text=NO_DOLLAR, variables=VARIABLES, strict=st.booleans())
def test_text_without_dollar_is_unchanged(text: str, variables: dict[str, str], strict: bool) -> None:
    assert envsubst(text, variables, strict=strict) == text


@given(before=NO_DOLLAR, name=NAMES, after=NO_DOLLAR, variables=VARIABLES, strict=st.booleans())
def test_double_dollar_escapes_an_expression(
    before: str, name: str, after: str, variables: dict[str, str], strict: bool
) -> None:
    assert envsubst(f"{before}$${{{name}}}{after}", variables, strict=strict) == f"{before}${{{name}}}{after}"


@given(
    chunks=st.lists(st.one_of(NO_DOLLAR, st.just("${v}"), st.just("${v:=d}"), st.just("${v^^}")), max_size=8),
    value=NO_DOLLAR,
    strict=st.booleans(),
)
def test_substitution_is_idempotent_for_dollar_free_values(chunks: list[str], value: str, strict: bool) -> None:
    once = envsubst("".join(chunks), {"v": value}, strict=strict)
    assert envsubst(once, {"v": value}, strict=strict) == once


@settings(max_examples=500)
@given(text=NOISY, variables=VARIABLES, strict=st.booleans())
def test_arbitrary_input_fails_only_with_substitution_error(text: str, variables: dict[str, str], strict: bool) -> None:
    try:
        result = envsubst(text, variables, strict=strict)
    except SubstitutionError as exc:
        assert str(exc)
    else:
        assert isinstance(result, str)


@given(text=NOISY, variables=VARIABLES)
def test_non_strict_never_reports_unset_variables(text: str, variables: dict[str, str]) -> None:
    try:
        envsubst(text, variables, strict=False)
    except SubstitutionError as exc:
        assert exc.variable is None or "slice bounds" in str(exc)


@given(text=st.text(alphabet=string.ascii_letters + "${}:=-_ ", max_size=40), variables=VARIABLES)
def test_strict_equals_non_strict_when_every_variable_is_set(text: str, variables: dict[str, str]) -> None:
    """Non-strict reads an unset variable as empty; strict with every name set to "" agrees with it."""
    try:
        relaxed = envsubst(text, variables, strict=False)
    except SubstitutionError:
        return
    names = dict.fromkeys(re.findall(r"[A-Za-z_]+", text), "")
    assert envsubst(text, {**names, **variables}, strict=True) == relaxed
