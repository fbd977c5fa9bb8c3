"""From buckets to signals: true averages over a window, confidence, source status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from services.analysis.buckets import Bucket, Resolution
from services.market.signals import (
    choose,
    confidence_for,
    fallback_window,
    overall_status,
    recent_window,
    source_status,
    window_average,
)

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 14, 15, 42, tzinfo=UTC)


def bucket(
    start: datetime,
    count: int,
    total: float,
    *,
    source: str = "our_model",
    resolution: Resolution = "H",
    low: float = -1.0,
    high: float = 1.0,
) -> Bucket:
    return Bucket("AAPL", source, resolution, start, count, total, low, high)


def hours_ago(n: int) -> datetime:
    return NOW.replace(minute=0) - timedelta(hours=n)


def test_the_average_is_pooled_sum_over_pooled_count_not_a_mean_of_means() -> None:
    buckets = [bucket(hours_ago(1), 9, 4.5, low=0.1, high=0.9), bucket(hours_ago(2), 1, -0.8)]
    start, end = recent_window(NOW)
    average = window_average(buckets, "our_model", "H", start, end)
    assert average.count == 10
    assert average.score == pytest.approx((4.5 - 0.8) / 10)  # not (0.5 + -0.8) / 2
    assert (average.minimum, average.maximum) == (-1.0, 1.0)
    assert average.latest == hours_ago(1)
    assert average.label == "positive"


def test_only_the_window_the_source_and_the_resolution_count() -> None:
    start, end = recent_window(NOW)
    buckets = [
        bucket(hours_ago(0), 2, 1.0),  # the current hour is in
        bucket(hours_ago(23), 2, 1.0),  # the oldest hour of the window is in
        bucket(hours_ago(24), 50, -50.0),  # one hour too old
        bucket(hours_ago(1), 50, -50.0, source="tiingo"),
        bucket(hours_ago(1), 50, -50.0, resolution="D"),
        bucket(hours_ago(1), 0, 0.0),
    ]
    average = window_average(buckets, "our_model", "H", start, end)
    assert (average.count, average.total) == (4, 2.0)


def test_recent_and_fallback_windows() -> None:
    start, end = recent_window(NOW)
    assert (start, end) == (datetime(2025, 3, 13, 16, tzinfo=UTC), NOW)
    start, end = fallback_window(NOW)
    assert (start, end) == (datetime(2025, 3, 8, tzinfo=UTC), NOW)


def test_no_data_is_neutral_with_zero_confidence_and_no_signal() -> None:
    start, end = recent_window(NOW)
    average = window_average([], "tiingo", "H", start, end)
    assert (average.score, average.label, average.confidence, average.count) == (
        0.0,
        "neutral",
        0.0,
        0,
    )
    assert average.signal() is None
    assert average.minimum is None and average.latest is None


def test_confidence_grows_with_count_and_stays_below_one() -> None:
    values = [confidence_for("our_model", n) for n in range(0, 200)]
    assert values[0] == 0.0
    assert all(a < b for a, b in pairwise(values))
    assert values[5] == pytest.approx(0.5)
    assert values[-1] < 1.0
    # A Finnhub sample is already a week's aggregate: one says more than one article.
    assert confidence_for("finnhub", 1) > confidence_for("our_model", 1)


def test_the_signal_carries_score_confidence_and_count() -> None:
    start, end = recent_window(NOW)
    average = window_average([bucket(hours_ago(3), 5, -2.5)], "our_model", "H", start, end)
    signal = average.signal()
    assert signal is not None
    assert (signal.score, signal.confidence, signal.count) == (-0.5, 0.5, 5)


def test_the_recent_window_is_chosen_when_it_has_data() -> None:
    start, end = recent_window(NOW)
    recent = window_average([bucket(hours_ago(1), 1, 0.5)], "our_model", "H", start, end)
    low, high = fallback_window(NOW)
    daily = window_average(
        [bucket(NOW.replace(hour=0, minute=0), 3, 0.3, resolution="D")], "our_model", "D", low, high
    )
    assert choose(recent, daily) is recent
    empty = window_average([], "our_model", "H", start, end)
    assert choose(empty, daily) is daily
    assert choose(empty, None) is empty


@pytest.mark.parametrize(
    ("recent", "fallback", "expected"),
    [(3, 10, "ok"), (3, 0, "ok"), (0, 10, "degraded"), (0, 0, "unavailable")],
)
def test_source_status(recent: int, fallback: int, expected: str) -> None:
    assert source_status(recent, fallback) == expected


def test_a_providers_status_over_tickers_is_the_best_one() -> None:
    assert overall_status(["unavailable", "ok", "degraded"]) == "ok"
    assert overall_status(["unavailable", "degraded"]) == "degraded"
    assert overall_status(["unavailable"]) == "unavailable"
    assert overall_status([]) == "unavailable"
