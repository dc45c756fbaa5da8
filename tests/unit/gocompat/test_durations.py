"""Go-style durations: parsing Flux's interval strings and rendering seconds back."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.gocompat import durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1m", 60), ("1h30m", 5400), ("500ms", 0.5), ("1.5h", 5400), ("10s", 10), ("0", 0), ("2m30s", 150)],
)
def test_parse(text: str, seconds: float) -> None:
    assert durations.parse(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "1x", "m", "10", "1m x", "-1s", "1m-"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        durations.parse(text)


@given(st.integers(min_value=1, max_value=10**6))
def test_round_trip_whole_seconds(seconds: int) -> None:
    assert durations.parse(durations.format_seconds(seconds)) == seconds
