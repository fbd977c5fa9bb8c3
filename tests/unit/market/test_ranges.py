"""Range names: parsing, the window they cover, and which candle sizes each may use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.market.ranges import (
    RANGES,
    InvalidRangeError,
    allowed_ranges,
    history_resolution,
    parse_range,
    range_window,
    served_range,
)

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [("1W", "1W"), (" 1m ", "1M"), ("1y", "1Y")])
def test_parse_range_accepts_any_case_and_spacing(text: str, expected: str) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize("text", ["", "2W", "1D", "12M", "1 W"])
def test_parse_range_refuses_others_naming_the_allowed_values(text: str) -> None:
    with pytest.raises(InvalidRangeError) as raised:
        parse_range(text)
    assert raised.value.parameter == "range"
    assert raised.value.allowed == list(RANGES)
    assert all(name in str(raised.value) for name in RANGES)


@pytest.mark.parametrize(("name", "days"), [("1W", 7), ("1M", 30), ("3M", 91), ("1Y", 365)])
def test_a_window_ends_now_and_reaches_back_the_range(name: str, days: int) -> None:
    window = range_window(parse_range(name), NOW)
    assert window.end == NOW
    assert window.end - window.start == timedelta(days=days)
    assert window.end_date.isoformat() == "2025-03-14"
    assert window.start_date == (NOW - timedelta(days=days)).date()


def test_finer_candles_serve_only_shorter_ranges() -> None:
    assert allowed_ranges("D") == list(RANGES)
    assert allowed_ranges("60") == list(RANGES)
    assert allowed_ranges("15") == ["1W", "1M", "3M"]
    assert allowed_ranges("1") == ["1W"]
    assert served_range("1W", "1") == "1W"
    assert served_range("1Y", "D") == "1Y"
    assert served_range("1Y", "1") == "1W"
    assert served_range("1Y", "15") == "3M"
    assert served_range("1M", "15") == "1M"


def test_history_is_hourly_for_a_week_and_daily_beyond() -> None:
    assert history_resolution("1W") == "H"
    assert {history_resolution(n) for n in RANGES if n != "1W"} == {"D"}
