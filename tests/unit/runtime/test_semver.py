"""semver: Masterminds v3 version parsing (lenient, strict, Flux tags) and precedence; constraint
syntax (AND by space or comma, `||`, hyphen ranges, wildcards, `~`, `^`, every operator) and the
prerelease rule, as a table of (constraint, version, expected); `latest` and `check`; errors; and
hypothesis properties for ordering, `>=X`/`<X` partition, `latest` maximality and parser safety.
"""

from __future__ import annotations

import functools
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.runtime import semver

CHECKS: list[tuple[str, str, bool]] = [
    # plain and `=` equality; a missing minor/patch is a wildcard
    ("1.2.3", "1.2.3", True),
    ("=1.2.3", "1.2.3", True),
    ("= 1.2.3", "1.2.4", False),
    ("v1.2.3", "1.2.3+build.7", True),
    ("1.2.3+meta", "1.2.3", True),
    ("=1.2", "1.2.9", True),
    ("=1.2", "1.3.0", False),
    ("1", "1.9.0", True),
    ("1", "2.0.0", False),
    ("0", "0.5.0", True),
    # `!=`, including wildcards
    ("!=1.2.3", "1.2.3", False),
    ("!=1.2.3", "1.2.4", True),
    ("!=1.2", "1.2.7", False),
    ("!=1.2", "1.3.0", True),
    ("!=1.x", "1.9.9", False),
    ("!=1.x", "2.0.0", True),
    ("!=1.2.x", "1.3.0", True),
    ("!=1.2-rc.1", "1.2.0", True),
    ("!=1.2-rc.1", "1.2.0-rc.1", False),
    ("!=1.2.3", "2.0.0-rc.1", False),
    # `>` and `<`, exact and with wildcards
    (">1.2.3", "1.2.4", True),
    (">1.2.3", "1.2.3", False),
    (">1.2", "1.2.9", False),
    (">1.2", "1.3.0", True),
    (">1", "1.9.9", False),
    (">1", "2.0.0", True),
    ("<1.2.3", "1.2.2", True),
    ("<1.2.3", "1.2.3", False),
    ("<1.2", "1.1.9", True),
    ("<1.2", "1.2.0", False),
    ("<1.x", "0.9.9", True),
    ("<1.x", "1.0.1", False),
    # `>=`, `=>`, `<=`, `=<`
    (">=1.2.3", "1.2.3", True),
    (">=1.2.3", "1.2.2", False),
    ("=>1.2", "1.2.0", True),
    (">= 1.x", "1.0.0", True),
    ("<=1.2.3", "1.2.3", True),
    ("<=1.2.3", "1.2.4", False),
    ("=<1.2", "1.2.9", True),
    ("<=1.2", "1.3.0", False),
    ("<=2.x", "2.99.0", True),
    ("<=2.x", "3.0.0", False),
    # AND by spaces or commas, OR by `||`
    (">=1.2.0, <1.4.0", "1.3.9", True),
    (">=1.2.0, <1.4.0", "1.4.0", False),
    (">= 1.2 < 2", "1.9.9", True),
    (">= 1.2 < 2", "2.0.0", False),
    (">=1.2,<2", "1.5.0", True),
    (">1.0 <2.0 !=1.5.0", "1.5.0", False),
    (">1.0 , <2.0 , !=1.5.0", "1.5.1", True),
    ("<1.0 || >=3.0", "0.9.0", True),
    ("<1.0 || >=3.0", "2.0.0", False),
    ("<1.0||>=3.0", "3.0.0", True),
    ("1.2.x || 1.4.x", "1.4.2", True),
    ("1.2.x || 1.4.x", "1.3.0", False),
    # hyphen ranges (whitespace around `-` required) combine with other comparators
    ("1.2 - 1.4.5", "1.2.0", True),
    ("1.2 - 1.4.5", "1.4.5", True),
    ("1.2 - 1.4.5", "1.4.6", False),
    ("2.3.4 - 4.5", "4.5.9", True),
    ("2.3.4 - 4.5", "4.6.0", False),
    ("1 - 2, !=1.5.0", "1.5.0", False),
    ("1 - 2 || 4", "4.1.0", True),
    ("1.2-1.4.5", "1.2.0-1.4.5", True),  # no spaces: one version with prerelease 1.4.5
    ("1.2-1.4.5", "1.2.7", True),
    # wildcards x, X, *
    ("1.2.x", "1.2.0", True),
    ("1.2.X", "1.2.99", True),
    ("1.2.*", "1.3.0", False),
    ("1.x", "1.99.0", True),
    ("1.*.*", "2.0.0", False),
    ("*", "0.0.0", True),
    ("*", "99.1.2", True),
    ("x", "3.0.0", True),
    (">=*", "1.0.0", True),
    # tilde
    ("~1.2.3", "1.2.3", True),
    ("~1.2.3", "1.2.99", True),
    ("~1.2.3", "1.3.0", False),
    ("~1.2.3", "1.2.2", False),
    ("~1.2", "1.2.0", True),
    ("~1.2", "1.3.0", False),
    ("~1", "1.9.0", True),
    ("~1", "2.0.0", False),
    ("~1.x", "1.5.0", True),
    ("~>1.2.3", "1.2.8", True),
    ("~0.0.0", "5.0.0", True),
    ("~*", "5.0.0", True),
    # caret
    ("^1.2.3", "1.2.3", True),
    ("^1.2.3", "1.99.0", True),
    ("^1.2.3", "2.0.0", False),
    ("^1.2.3", "1.2.2", False),
    ("^1.2", "1.2.0", True),
    ("^1.2", "1.1.9", False),
    ("^1.x", "1.0.0", True),
    ("^0.2.3", "0.2.9", True),
    ("^0.2.3", "0.3.0", False),
    ("^0.2", "0.2.0", True),
    ("^0.0.3", "0.0.3", True),
    ("^0.0.3", "0.0.4", False),
    ("^0.0", "0.0.9", True),
    ("^0.0", "0.1.0", False),
    ("^0", "0.9.9", True),
    ("^0", "1.0.0", False),
    # prereleases: only where the AND group names one, then ordered normally
    (">=1.2.3", "1.3.0-beta", False),
    (">=1.2.3-alpha", "1.2.3-beta", True),
    (">=1.2.3-alpha", "1.3.0-beta", True),
    (">=1.2.3-beta", "1.2.3-alpha", False),
    (">=1.2.3-0", "1.2.3-alpha", True),
    (">=1.2.3-0", "2.0.0", True),
    ("*", "1.0.0-rc.1", False),
    ("*-0", "1.0.0-rc.1", True),
    (">=0.0.0-0", "0.0.0-alpha", True),
    (">0", "0.0.1-alpha", False),
    ("~1.2.3-beta.2", "1.2.3-beta.10", True),
    ("~1.2.3-beta.2", "1.2.4-beta.1", True),
    ("~1.2.3-beta.2", "1.3.0-beta.2", False),
    ("^1.2.0-alpha.0", "1.2.1-alpha.1", True),
    ("^1.2.0", "1.2.1-alpha.1", False),
    (">=1.0.0 <=2.0.0-beta", "1.0.1-beta", True),
    (">=1.0.0 <=2.0.0-beta || >3", "3.0.1-beta", False),
    (">=1.0.0-rc.1 <2", "1.0.0-rc.2", True),
    (">=1.0.0-rc.1 <2", "1.0.0-rc.10", True),
    (">=1.0.0-rc.1 <2", "1.0.0-RC.2", False),  # ASCII order: upper case sorts first
    (">=1.2.3-BETA", "1.2.3-alpha", True),
    ("1.2.3-rc.1", "1.2.3-rc.1+build", True),
]


@pytest.mark.parametrize(("constraint", "version", "expected"), CHECKS)
def test_check_table(constraint: str, version: str, expected: bool) -> None:
    assert semver.check(constraint, version) is expected


def test_table_is_large_and_unique() -> None:
    assert len(CHECKS) >= 80
    assert len({(c, v) for c, v, _ in CHECKS}) == len(CHECKS)


# Masterminds quirks kept for parity with Flux.
@pytest.mark.parametrize(
    ("constraint", "version", "expected"),
    [
        ("^*", "1.0.0", False),  # caret on a bare wildcard acts like ^0.0.0
        ("<=*", "0.1.0", False),  # <=x.y.z with a wild major caps at 0.0.x
        ("!=*", "0.0.0", False),
        ("!=*", "0.0.1", True),
        ("1||2 - 3", "5.0.0", True),  # `|` is in Masterminds' digit class: reads as `>= 1||2, <= 3`
        (">=1.2.3+build.1", "1.2.3", True),  # build metadata on a constraint is ignored
        ("01.02.03", "1.2.3", True),  # leading zeros tolerated in constraint versions
    ],
)
def test_masterminds_quirks(constraint: str, version: str, expected: bool) -> None:
    assert semver.check(constraint, version) is expected


@pytest.mark.parametrize(
    "constraint",
    [
        "",
        " ",
        "foo",
        ">= bar",
        "BAR >= 1.2.3",
        "1.2.3.4",
        "12.3.34~ 1.2.3",
        ">=1.2.3,",
        ",>=1.2.3",
        ">=1.2.3,,<2",
        "1.2 ||",
        "|| 1.2",
        "~ >1.2",
        "<>1.2",
        ">=1<2",
        "v1.2.3-beta.01",
        "V1.2.3",
        "1.2.3 -",
        "99999999999999999999",
        "1.2.3\v",
    ],
)
def test_constraint_errors_name_the_input(constraint: str) -> None:
    with pytest.raises(semver.ConstraintError) as err:
        semver.Constraint(constraint)
    assert err.value.constraint == constraint
    assert repr(constraint) in str(err.value)
    assert isinstance(err.value, ValueError)


def test_constraint_length_cap() -> None:
    ok = " || ".join(["1.2.3"] * 400)
    assert len(ok) <= semver.MAX_CONSTRAINT_LENGTH
    assert semver.check(ok, "1.2.3")
    too_long = "1" * (semver.MAX_CONSTRAINT_LENGTH + 1)
    with pytest.raises(semver.ConstraintError, match="longer than") as err:
        semver.Constraint(too_long)
    assert err.value.constraint == too_long
    assert len(str(err.value)) < 200


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("1.2.3", (1, 2, 3, "", "")),
        ("v1.2.3", (1, 2, 3, "", "")),
        ("1", (1, 0, 0, "", "")),
        ("v1.2", (1, 2, 0, "", "")),
        ("1.2-rc.1+b.5", (1, 2, 0, "rc.1", "b.5")),
        ("01.002.3", (1, 2, 3, "", "")),
        ("1.2.3-0a.x-y+001", (1, 2, 3, "0a.x-y", "001")),
        ("18446744073709551615.0.0", (2**64 - 1, 0, 0, "", "")),
    ],
)
def test_parse_lenient(text: str, parts: tuple[int, int, int, str, str]) -> None:
    version = semver.parse(text)
    assert (version.major, version.minor, version.patch, version.prerelease, version.metadata) == parts
    assert version.original == text


@pytest.mark.parametrize(
    "text",
    ["", "v", "V1.2.3", "1.2.3.4", "1.2.3-", "1.2.3+", "1.2.3-01", "1..2", " 1.2.3", "1.2.3\n", "18446744073709551616"],
)
def test_parse_lenient_rejects(text: str) -> None:
    with pytest.raises(semver.VersionError):
        semver.parse(text)


@pytest.mark.parametrize(
    ("text", "strict", "tag"),
    [
        ("1.2.3", True, True),
        ("1.2.3-rc.1+b", True, True),
        ("v1.2.3", False, True),
        ("vv1.2.3", False, False),
        ("1.2", False, False),
        ("v1", False, False),
        ("01.2.3", False, False),
        ("1.2.3-01", False, False),
        ("1.2.3-a..b", False, False),
    ],
)
def test_parse_strict_and_tag(text: str, strict: bool, tag: bool) -> None:
    for parser, ok in ((semver.parse_strict, strict), (semver.parse_tag, tag)):
        if ok:
            assert parser(text).original == text
        else:
            with pytest.raises(semver.VersionError):
                parser(text)


def test_precedence_and_equality() -> None:
    ordered = ["1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-RC", "1.0.0-alpha", "1.0.0-alpha.1"]
    ordered += ["1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]
    ordered += ["1.0.1", "1.2.0", "1.10.0", "2.0.0"]
    versions = [semver.parse(text) for text in ordered]
    assert sorted(reversed(versions)) == versions
    assert all(a < b and a.compare(b) == -1 and b.compare(a) == 1 for a, b in itertools.pairwise(versions))
    assert semver.parse("v1.2.3+a") == semver.parse("1.2.3+b")
    assert hash(semver.parse("v1.2")) == hash(semver.parse("1.2.0"))
    assert str(semver.parse("v1.2-rc.1+b")) == "1.2.0-rc.1+b"
    assert semver.parse("1.2.3") in semver.Constraint("~1.2")


def test_latest() -> None:
    tags = ["v1.2.0", "1.3", "1.2.5-rc.1", "junk", "v1.2.4", "1.2.4+b", "v1.10.0", "latest"]
    assert semver.latest(tags, "~1.2") == "v1.2.4"  # first of equal versions wins
    assert semver.latest(tags, ">=1.2.0-0 <1.3") == "1.2.5-rc.1"
    assert semver.latest(tags, "*") == "v1.10.0"
    assert semver.latest(tags, ">=2") is None
    assert semver.latest([], "*") is None
    assert semver.latest(iter(["1.0.0", "2.0.0"]), semver.Constraint("<2")) == "1.0.0"


def test_check_rejects_bad_input() -> None:
    with pytest.raises(semver.VersionError):
        semver.check("*", "not-a-version")
    with pytest.raises(semver.ConstraintError):
        semver.check("nope", "1.0.0")
    assert semver.check(semver.Constraint(">1"), semver.parse("2.0.0"))


# --- properties -------------------------------------------------------------------------------

_idents = st.one_of(
    st.integers(min_value=0, max_value=2**40).map(str),
    st.from_regex(r"[0-9]*[A-Za-z-][0-9A-Za-z-]*", fullmatch=True).filter(lambda s: len(s) < 12),
)
_prerelease = st.lists(_idents, min_size=0, max_size=3).map(".".join)
_metadata = st.lists(st.from_regex(r"[0-9A-Za-z-]{1,5}", fullmatch=True), max_size=2).map(".".join)
_numbers = st.integers(min_value=0, max_value=12)


@st.composite
def versions(draw: st.DrawFn, *, prerelease: bool = True) -> str:
    text = f"{draw(_numbers)}.{draw(_numbers)}.{draw(_numbers)}"
    pre = draw(_prerelease) if prerelease else ""
    meta = draw(_metadata)
    return ("v" if draw(st.booleans()) else "") + text + (f"-{pre}" if pre else "") + (f"+{meta}" if meta else "")


def _reference_cmp(a: semver.Version, b: semver.Version) -> int:
    """Semver 2.0 §11, written independently of the module's sort key."""
    for x, y in ((a.major, b.major), (a.minor, b.minor), (a.patch, b.patch)):
        if x != y:
            return -1 if x < y else 1
    if a.prerelease == b.prerelease:
        return 0
    if not a.prerelease or not b.prerelease:
        return 1 if not a.prerelease else -1
    for p, q in itertools.zip_longest(a.prerelease.split("."), b.prerelease.split(".")):
        if p is None or q is None:
            return -1 if p is None else 1
        if p == q:
            continue
        if p.isdigit() and q.isdigit():
            return -1 if int(p) < int(q) else 1
        if p.isdigit() or q.isdigit():
            return -1 if p.isdigit() else 1
        return -1 if p < q else 1
    return 0


@given(st.lists(versions(), min_size=1, max_size=12))
def test_ordering_is_total_and_matches_semver(texts: list[str]) -> None:
    vs = [semver.parse(text) for text in texts]
    by_module = sorted(vs)
    assert by_module == sorted(vs, key=functools.cmp_to_key(_reference_cmp))
    assert all(a <= b for a, b in itertools.pairwise(by_module))
    for a, b in itertools.product(vs, repeat=2):
        assert a.compare(b) == _reference_cmp(a, b) == -b.compare(a)
        assert (a == b) == (a.compare(b) == 0)
        assert a != b or hash(a) == hash(b)
        assert sum((a < b, a == b, a > b)) == 1


@given(
    st.one_of(versions(), st.from_regex(r"v?[0-9]{1,2}(\.[0-9]{1,2})?", fullmatch=True)),
    versions(prerelease=False),
)
def test_ge_and_lt_partition_releases(bound: str, version: str) -> None:
    assert semver.check(f">={bound}", version) != semver.check(f"<{bound}", version)


_constraints = st.one_of(
    st.tuples(st.sampled_from(["", "=", "!=", ">", "<", ">=", "<=", "~", "^"]), versions()).map("".join),
    st.sampled_from(["*", "1.x", "~1.2", "^0.3", ">=1.0.0-0 <3", "1 - 2 || 5.x", "*-0", ">2, <8"]),
)


@given(st.lists(st.one_of(versions(), st.text(max_size=6)), max_size=15), _constraints)
def test_latest_is_a_maximal_match(candidates: list[str], constraint: str) -> None:
    rule = semver.Constraint(constraint)
    matching = []
    for text in candidates:
        try:
            version = semver.parse_tag(text)
        except semver.VersionError:
            continue
        if rule.check(version):
            matching.append(version)
    found = semver.latest(candidates, constraint)
    if not matching:
        assert found is None
    else:
        assert found is not None and found in candidates
        assert semver.parse_tag(found) == max(matching)
        assert rule.check(semver.parse_tag(found))


_near_syntax = st.text(alphabet="0123456789.vVxX*|-+ ,\t<>=!~^ab", max_size=40)
_long_digits = st.integers(min_value=19, max_value=4400).map(lambda n: "9" * n)


@given(st.one_of(st.text(max_size=40), _near_syntax, _long_digits))
def test_parsers_raise_only_their_own_errors(text: str) -> None:
    for parser in (semver.parse, semver.parse_strict, semver.parse_tag, semver.Constraint):
        try:
            parser(text)
        except semver.SemverError:
            pass
    candidates = [text, f"1.0.0-{text}", f"{text}.0.0", "1.0.0-1"]
    assert semver.latest(candidates, "*-0") in (None, *candidates)  # comparing never raises either
