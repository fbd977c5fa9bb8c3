"""Sentiment history: one point per bucket, per source or as the ensemble per bucket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.analysis.buckets import Bucket, Resolution, bucket_start
from services.market.history import aggregate_points, point_of, sentiment_history
from services.market.signals import confidence_for
from services.scoring.ensemble import SourceSignal, combine

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 14, 15, 42, tzinfo=UTC)
TODAY = bucket_start(NOW, "D")


def day(source: str, days_ago: int, count: int, total: float) -> Bucket:
    return Bucket("AAPL", source, "D", TODAY - timedelta(days=days_ago), count, total, -1, 1)


class Reader:
    def __init__(self, buckets: list[Bucket]) -> None:
        self.buckets = buckets
        self.reads: list[tuple[str, Resolution, datetime, datetime]] = []

    def history(
        self, ticker: str, source: str, resolution: Resolution, since: datetime, until: datetime
    ) -> list[Bucket]:
        self.reads.append((source, resolution, since, until))
        return [b for b in self.buckets if (b.source, b.resolution) == (source, resolution)]


def test_a_point_is_the_buckets_true_average() -> None:
    point = point_of(day("tiingo", 1, 4, -2.0))
    assert (point.score, point.label, point.count, point.source) == (-0.5, "negative", 4, "tiingo")
    assert point.confidence == confidence_for("tiingo", 4)
    assert point.at == TODAY - timedelta(days=1)


def test_aggregated_points_combine_the_sources_present_on_each_date() -> None:
    series = {
        "our_model": [day("our_model", 2, 4, 2.0), day("our_model", 1, 2, -1.0)],
        "tiingo": [day("tiingo", 2, 2, 1.2)],
        "finnhub": [day("finnhub", 1, 3, 0.9), day("finnhub", 0, 0, 0.0)],
    }
    points = aggregate_points(series)
    assert [p.at for p in points] == [TODAY - timedelta(days=2), TODAY - timedelta(days=1)]
    first, second = points
    expected = combine(
        {
            "our_model": SourceSignal(0.5, confidence_for("our_model", 4), 4),
            "tiingo": SourceSignal(0.6, confidence_for("tiingo", 2), 2),
        }
    )
    assert (first.score, first.confidence, first.label) == (
        expected.score,
        expected.confidence,
        expected.label,
    )
    assert (first.count, first.source) == (6, "aggregated")
    assert second.count == 5
    assert 0.3 > second.score > -0.5  # between finnhub's 0.3 and our model's -0.5


def test_history_reads_daily_buckets_for_a_month_and_hourly_for_a_week() -> None:
    reader = Reader([day("our_model", 3, 2, 1.0), day("our_model", 1, 0, 0.0)])
    found = sentiment_history(reader, "AAPL", "1M", "our_model", NOW)
    assert (found.resolution, found.window.end, len(found.points)) == ("D", NOW, 1)
    assert reader.reads == [("our_model", "D", NOW - timedelta(days=30), NOW)]

    reader = Reader([])
    week = sentiment_history(reader, "AAPL", "1W", "aggregated", NOW)
    assert week.resolution == "H" and week.points == ()
    assert {source for source, *_ in reader.reads} == {"tiingo", "finnhub", "our_model"}
    assert {resolution for _, resolution, *_ in reader.reads} == {"H"}
