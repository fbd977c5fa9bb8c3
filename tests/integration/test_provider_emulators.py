"""The provider emulators over HTTP, through the real adapters: wire formats, faults, oracle."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.adapters.errors import (
    ProviderAuthError,
    ProviderNotFoundError,
    ProviderRateLimitedError,
    ProviderUnavailableError,
)
from services.adapters.finnhub import FinnhubAdapter
from services.adapters.tiingo import TiingoAdapter
from services.ingestion.dedupe import canonical_url
from services.local.emulators.tiingo import TiingoEmulator
from services.local.emulators.world import NewsWorld
from services.local.processes import PortInUseError
from services.market.universe import TickerUniverse
from services.scoring.ensemble import finnhub_signal
from tests.clock import Clock

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # a Tuesday, after the session
TICKERS = ["AAPL", "MSFT", "JPM"]


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def tiingo(news_world: NewsWorld) -> Iterator[TiingoEmulator]:
    emulator = TiingoEmulator(news_world, "t-key").start()
    yield emulator
    emulator.stop()


def test_news_comes_in_each_providers_format_and_mentions_its_tickers(tiingo, finnhub) -> None:
    since = NOW - timedelta(days=2)
    from_tiingo = TiingoAdapter(tiingo.url, "t-key").fetch_news(TICKERS, since, NOW)
    from_finnhub = FinnhubAdapter(finnhub.url, "f-key").fetch_news(TICKERS, since, NOW)

    assert from_tiingo and from_finnhub
    universe = TickerUniverse.load()
    for article in from_tiingo + from_finnhub:
        assert set(article.tickers) & set(TICKERS)
        assert article.published_at <= NOW
        assert article.title and article.url.startswith("https://")
        text = f"{article.title} {article.description}"
        for symbol in article.tickers:
            company = universe.get(symbol)
            assert company is not None and (company.name in text or symbol in text)
    # Some stories are carried by both providers, under the same URL: one story, two sources.
    shared = {canonical_url(a.url) for a in from_tiingo} & {
        canonical_url(a.url) for a in from_finnhub
    }
    assert shared


def test_the_world_is_reproducible_from_its_seed() -> None:
    day = (NOW - timedelta(days=3), NOW)
    first = NewsWorld(seed=5, clock=lambda: NOW).stories(TICKERS, *day)
    again = NewsWorld(seed=5, clock=lambda: NOW).stories(TICKERS, *day)
    other = NewsWorld(seed=6, clock=lambda: NOW).stories(TICKERS, *day)
    assert [s.title for s in first] == [s.title for s in again]
    assert [s.title for s in first] != [s.title for s in other]


def test_the_oracle_records_exactly_what_was_returned(news_world, tiingo, finnhub) -> None:
    returned = TiingoAdapter(tiingo.url, "t-key").fetch_news(["AAPL"], NOW - timedelta(days=1))
    returned += FinnhubAdapter(finnhub.url, "f-key").fetch_news(["AAPL"], NOW - timedelta(days=1))

    emitted = httpx.get(f"{tiingo.root_url}/_emulator/emitted").json()
    emitted += httpx.get(f"{finnhub.root_url}/_emulator/emitted").json()

    assert {canonical_url(a.url) for a in returned} == {canonical_url(s["url"]) for s in emitted}
    assert {canonical_url(s.url) for s in news_world.emitted()} == {
        canonical_url(a.url) for a in returned
    }


def test_injected_stories_appear_in_the_next_fetch(tiingo) -> None:
    response = httpx.post(
        f"{tiingo.root_url}/_emulator/news",
        json={"ticker": "NVDA", "count": 3, "tone": "negative"},
    )
    assert response.status_code == 201
    injected = {s["url"] for s in response.json()}

    fetched = TiingoAdapter(tiingo.url, "t-key").fetch_news(["NVDA"], NOW - timedelta(hours=1))
    tiingo_urls = {a.url for a in fetched}
    tiingo_carried = {s["url"] for s in response.json() if "tiingo" in s["providers"]}
    assert tiingo_carried <= tiingo_urls
    assert injected  # every injected story is carried by at least one provider

    bad = httpx.post(f"{tiingo.root_url}/_emulator/news", json={"ticker": "NOPE"})
    assert bad.status_code == 400 and "unknown ticker" in bad.json()["detail"]


def test_finnhub_sentiment_agrees_with_the_news_it_serves(news_world, finnhub) -> None:
    figures = FinnhubAdapter(finnhub.url, "f-key").fetch_sentiment("MSFT")
    week = news_world.stories(["MSFT"], NOW - timedelta(days=7), NOW)
    positive = sum(s.tone == "positive" for s in week)
    negative = sum(s.tone == "negative" for s in week)

    assert figures.articles_in_last_week == len(week)
    assert figures.bullish_percent == pytest.approx(positive / (positive + negative), abs=1e-4)
    assert figures.bearish_percent == pytest.approx(negative / (positive + negative), abs=1e-4)
    signal = finnhub_signal(
        figures.bullish_percent, figures.bearish_percent, figures.articles_in_last_week
    )
    assert (signal.score > 0) == (positive > negative) or positive == negative


def test_prices_follow_the_news_tone(news_world) -> None:
    bars = news_world.daily_bars("AAPL", NOW.date() - timedelta(days=400), NOW.date())
    assert len(bars) > 250
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
    moves = [
        (b.close / p.close - 1, news_world.tone_of_day("AAPL", b.timestamp.date()))
        for p, b in itertools.pairwise(bars)
    ]
    good = [m for m, tone in moves if tone > 0.3]
    bad = [m for m, tone in moves if tone < -0.3]
    assert sum(good) / len(good) > sum(bad) / len(bad)


def test_candles_in_both_formats_describe_the_same_series(tiingo, finnhub) -> None:
    start = NOW - timedelta(days=10)
    daily = TiingoAdapter(tiingo.url, "t-key").fetch_candles("AAPL", start, NOW, "D")
    same = FinnhubAdapter(finnhub.url, "f-key").fetch_candles("AAPL", start, NOW, "D")
    assert [c.close for c in daily] == [c.close for c in same]
    hourly = FinnhubAdapter(finnhub.url, "f-key").fetch_candles("AAPL", start, NOW, "60")
    assert hourly and all(start <= c.timestamp <= NOW for c in hourly)


def test_errors_use_each_providers_status_and_body(tiingo, finnhub) -> None:
    with pytest.raises(ProviderAuthError):
        TiingoAdapter(tiingo.url, "wrong").fetch_news(["AAPL"], NOW - timedelta(days=1))
    with pytest.raises(ProviderAuthError):
        FinnhubAdapter(finnhub.url, "wrong").fetch_sentiment("AAPL")
    with pytest.raises(ProviderNotFoundError, match="ZZZZ"):
        TiingoAdapter(tiingo.url, "t-key").fetch_candles("ZZZZ", NOW, NOW, "D")
    # Finnhub also accepts the key as a query parameter, and errors are {"error": ...}.
    raw = httpx.get(f"{finnhub.url}/company-news", params={"symbol": "AAPL", "token": "f-key"})
    assert raw.status_code == 422 and "from" in raw.json()["error"]


def test_faults_and_rate_limits_then_recovery(news_world, tiingo) -> None:
    adapter = TiingoAdapter(tiingo.url, "t-key")
    httpx.post(f"{tiingo.root_url}/_emulator/faults", json={"mode": "http_500", "duration_s": 60})
    with pytest.raises(ProviderUnavailableError):
        adapter.fetch_news(["AAPL"], NOW - timedelta(days=1))
    httpx.post(f"{tiingo.root_url}/_emulator/faults", json={"mode": "http_429", "duration_s": 60})
    with pytest.raises(ProviderRateLimitedError) as raised:
        adapter.fetch_news(["AAPL"], NOW - timedelta(days=1))
    assert raised.value.retry_after == 30.0
    bad = httpx.post(f"{tiingo.root_url}/_emulator/faults", json={"mode": "meltdown"})
    assert bad.status_code == 400
    httpx.delete(f"{tiingo.root_url}/_emulator/faults")
    assert adapter.fetch_news(["AAPL"], NOW - timedelta(days=1))

    limited = TiingoEmulator(news_world, "t-key", rate_limit_per_minute=2).start()
    try:
        limited_adapter = TiingoAdapter(limited.url, "t-key")
        for _ in range(2):
            limited_adapter.fetch_candles("AAPL", NOW, NOW, "D")
        with pytest.raises(ProviderRateLimitedError):
            limited_adapter.fetch_candles("AAPL", NOW, NOW, "D")
    finally:
        limited.stop()


def test_a_stopped_emulator_restarts_on_the_same_port(news_world, tiingo) -> None:
    adapter = TiingoAdapter(tiingo.url, "t-key", timeout_s=1.0)
    port = tiingo.port
    tiingo.stop()
    with pytest.raises(ProviderUnavailableError):
        adapter.fetch_news(["AAPL"], NOW - timedelta(days=1))
    tiingo.start()
    assert tiingo.port == port
    assert adapter.fetch_news(["AAPL"], NOW - timedelta(days=1))
    with pytest.raises(PortInUseError, match=str(port)):
        TiingoEmulator(news_world, "t-key", port=port).start()
