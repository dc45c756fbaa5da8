"""ImagePolicy tag selection (gotk.image.selection): semver, alphabetical and numerical as Flux's policers
choose, filterTags with Go's regexp expansion, and the errors that stall."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.image import selection
from gotk.image.selection import InvalidPolicyError, NoMatchError

TAG = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)


def test_semver_picks_highest_in_range() -> None:
    tags = ["1.0.0", "1.2.3", "1.2.4", "2.0.0", "v1.2.5-rc.1", "latest", "1.3"]
    assert selection.select({"policy": {"semver": {"range": ">=1.0.0 <2.0.0"}}}, tags) == "1.2.4"
    assert selection.select({"policy": {"semver": {"range": ">=1.2.5-0 <2.0.0"}}}, tags) == "v1.2.5-rc.1"


def test_invalid_semver_range_is_invalid_before_tags() -> None:
    with pytest.raises(InvalidPolicyError, match=r"spec.policy.semver.range 'not a range'"):
        selection.validate({"policy": {"semver": {"range": "not a range"}}})


def test_no_version_in_range() -> None:
    with pytest.raises(NoMatchError, match="unable to determine latest version"):
        selection.select({"policy": {"semver": {"range": ">=9"}}}, ["1.0.0"])


def test_alphabetical_orders() -> None:
    tags = ["RELEASE.2023-01-01", "RELEASE.2024-06-30", "RELEASE.2024-01-02"]
    assert selection.select({"policy": {"alphabetical": {}}}, tags) == "RELEASE.2024-06-30"
    assert selection.select({"policy": {"alphabetical": {"order": "desc"}}}, tags) == "RELEASE.2023-01-01"


def test_numerical_orders_and_refuses_non_numbers() -> None:
    tags = ["1", "10", "9", "1.5"]
    assert selection.select({"policy": {"numerical": {"order": "asc"}}}, tags) == "10"
    assert selection.select({"policy": {"numerical": {"order": "desc"}}}, tags) == "1"
    with pytest.raises(NoMatchError, match="failed to parse invalid numeric value 'x'"):
        selection.select({"policy": {"numerical": {}}}, ["1", "x"])
    with pytest.raises(NoMatchError):  # Python's float() takes underscores, Go's ParseFloat does not
        selection.select({"policy": {"numerical": {}}}, ["1_000"])


def test_invalid_order() -> None:
    with pytest.raises(InvalidPolicyError, match="invalid order argument provided: 'UP'"):
        selection.validate({"policy": {"alphabetical": {"order": "up"}}})


def test_filter_extract_timestamp_picks_newest_build() -> None:
    tags = ["main-abc1234-1700000000", "main-def5678-1700000100", "main-0a1b2c3-1699999999", "feature-x-1800000000"]
    spec = {
        "filterTags": {"pattern": r"^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"},
        "policy": {"numerical": {"order": "asc"}},
    }
    assert selection.select(spec, tags) == "main-def5678-1700000100"


def test_filter_go_named_group_syntax_and_braces() -> None:
    spec = {"filterTags": {"pattern": r"^v(?<ver>.*)-prod$", "extract": "${ver}"}, "policy": {"semver": {"range": "*"}}}
    assert selection.select(spec, ["v1.0.0-prod", "v1.1.0-prod", "v2.0.0-dev"]) == "v1.1.0-prod"


def test_filter_without_extract_keeps_tags() -> None:
    spec = {"filterTags": {"pattern": "^1\\."}, "policy": {"alphabetical": {}}}
    assert selection.select(spec, ["1.1", "1.2", "2.0"]) == "1.2"


def test_invalid_filter_pattern_is_invalid() -> None:
    with pytest.raises(InvalidPolicyError, match="failed to filter tags: invalid regular expression pattern"):
        selection.validate({"filterTags": {"pattern": "("}, "policy": {"alphabetical": {}}})


def test_expand_is_go_expand() -> None:
    m = re.search(r"(?P<a>x)(y)?", "x")
    assert m is not None
    assert selection.expand("$a-$1-$2-$$-${a}b-$ab-$", m) == "x-x--$-xb--$"


def test_posix_classes() -> None:
    pattern = selection.compile_go_regexp("^[[:digit:]]+$")
    assert pattern.search("123") and not pattern.search("12a")


@given(st.lists(TAG, min_size=1, max_size=30))
def test_alphabetical_is_max_or_min(tags: list[str]) -> None:
    assert selection.select({"policy": {"alphabetical": {"order": "asc"}}}, tags) == max(tags)
    assert selection.select({"policy": {"alphabetical": {"order": "desc"}}}, tags) == min(tags)


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30))
def test_numerical_matches_integer_order(values: list[int]) -> None:
    tags = [str(v) for v in values]
    assert int(selection.select({"policy": {"numerical": {}}}, tags)) == max(values)


@given(st.lists(TAG, max_size=30))
def test_filter_keeps_only_matches(tags: list[str]) -> None:
    kept = selection.TagFilter(selection.compile_go_regexp("^[0-9]")).apply(tags)
    assert set(kept.values()) == {t for t in tags if t[0].isdigit()}
