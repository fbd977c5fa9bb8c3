"""A configuration's sentiment from buckets: windows, fallback, ensemble, provider status."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.analysis.buckets import Bucket, Resolution, bucket_start
from services.market.sentiment_view import configuration_sentiment, ticker_sentiment
from services.scoring.ensemble import SourceSignal, combine

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 14, 15, 42, tzinfo=UTC)


class Buckets:
    """The store's `history` over a list, recording every read."""

    def __init__(self, buckets: list[Bucket]) -> None:
        self.buckets = buckets
        self.reads: list[tuple[str, str, Resolution]] = []

    def history(
        self, ticker: str, source: str, resolution: Resolution, since: datetime, until: datetime
    ) -> list[Bucket]:
        self.reads.append((ticker, source, resolution))
        low, high = bucket_start(since, resolution), bucket_start(until, resolution)
        return [
            b
            for b in self.buckets
            if (b.ticker, b.source, b.resolution) == (ticker, source, resolution)
            and low <= b.start <= high
        ]


def hourly(ticker: str, source: str, hours_ago: int, count: int, total: float) -> Bucket:
    start = bucket_start(NOW, "H") - timedelta(hours=hours_ago)
    return Bucket(ticker, source, "H", start, count, total, -1.0, 1.0)


def daily(ticker: str, source: str, days_ago: int, count: int, total: float) -> Bucket:
    start = bucket_start(NOW, "D") - timedelta(days=days_ago)
    return Bucket(ticker, source, "D", start, count, total, -1.0, 1.0)


def test_recent_hours_give_the_figures_and_the_ensemble_combines_them() -> None:
    store = Buckets(
        [
            hourly("AAPL", "our_model", 1, 6, 3.0),
            hourly("AAPL", "our_model", 5, 4, 1.0),
            hourly("AAPL", "tiingo", 2, 3, 1.2),
            hourly("AAPL", "finnhub", 0, 2, 0.8),
        ]
    )
    found = ticker_sentiment(store, "AAPL", NOW)
    ours = found.sources["our_model"]
    assert (ours.window.count, ours.window.score, ours.status) == (10, 0.4, "ok")
    assert ours.window.resolution == "H"
    assert found.aggregated == combine(
        {name: view.window.signal() for name, view in found.sources.items()}
    )
    assert found.aggregated.used == ("finnhub", "our_model", "tiingo")
    assert found.aggregated_count == 15
    # The daily buckets are not read when the recent hours have data.
    assert all(resolution == "H" for _, _, resolution in store.reads)


def test_without_recent_hours_the_last_seven_days_stand_in_and_the_source_is_degraded() -> None:
    store = Buckets(
        [
            hourly("AAPL", "our_model", 30, 5, 5.0),  # older than the recent window
            daily("AAPL", "our_model", 2, 4, -2.0),
            daily("AAPL", "our_model", 6, 4, -1.0),
            daily("AAPL", "our_model", 7, 100, 100.0),  # older than the daily window
            hourly("AAPL", "tiingo", 3, 2, 0.4),
        ]
    )
    found = ticker_sentiment(store, "AAPL", NOW)
    ours = found.sources["our_model"]
    assert ours.status == "degraded"
    assert (ours.window.resolution, ours.window.count) == ("D", 8)
    assert ours.window.score == pytest.approx(-3.0 / 8)
    assert found.sources["tiingo"].status == "ok"
    assert found.sources["finnhub"].status == "unavailable"
    assert found.aggregated.missing == ("finnhub",)


def test_no_data_at_all_is_neutral_with_zero_confidence_and_every_source_missing() -> None:
    view = configuration_sentiment(Buckets([]), "c1", 3, ["AAPL", "MSFT"], NOW)
    assert (view.config_id, view.version, view.computed_at) == ("c1", 3, NOW)
    assert [t.symbol for t in view.tickers] == ["AAPL", "MSFT"]
    for ticker in view.tickers:
        for source in ticker.sources.values():
            assert (source.window.score, source.window.confidence) == (0.0, 0.0)
            assert source.window.label == "neutral" and source.status == "unavailable"
        result = ticker.aggregated
        assert (result.score, result.label, result.confidence) == (0.0, "neutral", 0.0)
        assert result.used == () and set(result.missing) == {"tiingo", "finnhub", "our_model"}
        assert ticker.aggregated_count == 0
    assert view.source_status == {"tiingo": "unavailable", "finnhub": "unavailable"}


def test_a_provider_is_ok_when_any_ticker_has_recent_data_from_it() -> None:
    store = Buckets(
        [
            hourly("AAPL", "tiingo", 1, 1, 0.1),
            daily("MSFT", "finnhub", 3, 1, 0.1),
        ]
    )
    view = configuration_sentiment(store, "c1", 1, ["AAPL", "MSFT"], NOW)
    assert view.source_status == {"tiingo": "ok", "finnhub": "degraded"}
    aapl, msft = view.tickers
    assert aapl.sources["tiingo"].status == "ok"
    assert msft.sources["tiingo"].status == "unavailable"


def test_the_ensemble_input_is_the_window_signal() -> None:
    store = Buckets([hourly("AAPL", "our_model", 1, 5, 2.5)])
    found = ticker_sentiment(store, "AAPL", NOW)
    assert found.sources["our_model"].window.signal() == SourceSignal(0.5, 0.5, 5)
    assert found.aggregated.score == pytest.approx(0.5)


def test_window_score_is_relevance_weighted_and_reports_the_average_relevance() -> None:
    # Given MSFT's hour: one story about it (relevance 0.9, score -0.6) and two that merely
    # list it (relevance 0.1 each, score +0.9): count 3, sum 1.2, weight 1.1
    weighted = 0.9 * -0.6 + 0.1 * 0.9 * 2
    bucket = Bucket("MSFT", "our_model", "H", bucket_start(NOW, "H"), 3, 1.2, -0.6, 0.9)
    store = Buckets([replace(bucket, weight=1.1, weighted_total=weighted)])

    ours = ticker_sentiment(store, "MSFT", NOW).sources["our_model"].window

    # Then the story about MSFT sets the figure; the plain average would have been positive
    assert ours.count == 3
    assert ours.score == pytest.approx(weighted / 1.1)
    assert ours.score < -0.3 < 0 < 1.2 / 3
    assert ours.relevance == pytest.approx(1.1 / 3)


def test_buckets_from_before_relevance_average_plainly_with_full_relevance() -> None:
    store = Buckets([hourly("AAPL", "our_model", 1, 4, 2.0)])
    ours = ticker_sentiment(store, "AAPL", NOW).sources["our_model"].window
    assert (ours.score, ours.relevance) == (0.5, 1.0)


def test_a_source_without_data_has_no_relevance_figure() -> None:
    found = ticker_sentiment(Buckets([]), "AAPL", NOW)
    assert found.sources["tiingo"].window.relevance is None
