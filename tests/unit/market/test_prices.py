"""Prices through L1 (memory), L2 (the table's cache item), then the provider; stale copies
when the provider fails; an error only when nothing is stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.adapters.errors import (
    ProviderNotFoundError,
    ProviderRateLimitedError,
    ProviderUnavailableError,
)
from services.adapters.models import Candle, Resolution
from services.market.prices import (
    NoPricesError,
    PriceService,
    PricesUnavailableError,
    fresh_until,
)
from services.store.ohlc_cache import CachedCandles, decode_candles, encode_candles
from tests.clock import Clock

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 14, 15, 42, tzinfo=UTC)


class Source:
    def __init__(self) -> None:
        self.calls: list[tuple[str, datetime, datetime, Resolution]] = []
        self.failure: Exception | None = None

    def fetch_candles(
        self, ticker: str, start: datetime, end: datetime, resolution: Resolution
    ) -> list[Candle]:
        self.calls.append((ticker, start, end, resolution))
        if self.failure is not None:
            raise self.failure
        return [
            Candle(end - timedelta(days=1), 10.0, 11.0, 9.5, 10.5, 1000),
            Candle(end - timedelta(days=2), 9.0, 10.0, 8.5, 10.0, 900),
        ]


class Store:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], tuple[CachedCandles, datetime]] = {}

    def get(
        self, ticker: str, resolution: str, range_name: str, now: datetime
    ) -> CachedCandles | None:
        found = self.items.get((ticker, resolution, range_name))
        if found is None or found[1] <= now:
            return None
        return found[0]

    def put(self, entry: CachedCandles, expires_at: datetime) -> bool:
        self.items[(entry.ticker, entry.resolution, entry.range_name)] = (entry, expires_at)
        return True


@pytest.fixture
def parts() -> tuple[Source, Store, Clock]:
    return Source(), Store(), Clock(NOW)


def test_provider_then_l1_then_l2_for_a_new_instance(parts) -> None:
    source, store, clock = parts
    service = PriceService(source, store, clock)
    first = service.candles("AAPL", "1M", "D")
    assert (first.layer, first.stale, first.from_cache) == ("provider", False, False)
    assert [c.timestamp for c in first.prices.candles] == sorted(
        c.timestamp for c in first.prices.candles
    )
    ticker, start, end, resolution = source.calls[0]
    assert (ticker, end - start, resolution) == ("AAPL", timedelta(days=30), "D")
    assert (first.prices.start_date.isoformat(), first.prices.end_date.isoformat()) == (
        "2025-02-12",
        "2025-03-14",
    )

    again = service.candles("AAPL", "1M", "D")
    assert (again.layer, again.prices) == ("l1", first.prices)

    other_instance = PriceService(source, store, clock)
    shared = other_instance.candles("AAPL", "1M", "D")
    assert (shared.layer, shared.prices) == ("l2", first.prices)
    assert len(source.calls) == 1


def test_a_stale_copy_is_served_when_the_provider_fails(parts) -> None:
    source, store, clock = parts
    PriceService(source, store, clock).candles("AAPL", "1M", "D")
    clock.now = NOW + timedelta(hours=2)  # past freshness, within the item's TTL
    source.failure = ProviderUnavailableError("tiingo", "GET /x -> 500", 500)
    service = PriceService(source, store, clock)
    answer = service.candles("AAPL", "1M", "D")
    assert (answer.layer, answer.stale) == ("l2", True)
    # Not kept in memory: the next request tries the provider again.
    service.candles("AAPL", "1M", "D")
    assert len(source.calls) == 3

    source.failure = None
    fresh = service.candles("AAPL", "1M", "D")
    assert (fresh.layer, fresh.stale) == ("provider", False)


def test_without_a_copy_a_provider_failure_is_unavailable_with_a_retry_time(parts) -> None:
    source, store, clock = parts
    service = PriceService(source, store, clock)
    source.failure = ProviderUnavailableError("tiingo", "GET /x -> 500", 500)
    with pytest.raises(PricesUnavailableError) as raised:
        service.candles("MSFT", "3M", "D")
    assert raised.value.retry_after_s == 30
    assert "MSFT" in str(raised.value) and "tiingo" in str(raised.value)

    source.failure = ProviderRateLimitedError("tiingo", "slow down", retry_after=12.4)
    with pytest.raises(PricesUnavailableError) as raised:
        service.candles("MSFT", "3M", "D")
    assert raised.value.retry_after_s == 12

    source.failure = ProviderNotFoundError("tiingo", "GET /x -> 404", 404)
    with pytest.raises(NoPricesError):
        service.candles("MSFT", "3M", "D")


def test_an_expired_item_is_not_served_even_when_the_provider_fails(parts) -> None:
    source, store, clock = parts
    PriceService(source, store, clock).candles("AAPL", "1W", "60")
    clock.now = NOW + timedelta(days=2)  # intraday copies are kept one day
    source.failure = ProviderUnavailableError("tiingo", "down", 503)
    with pytest.raises(PricesUnavailableError):
        PriceService(source, store, clock).candles("AAPL", "1W", "60")


def test_too_fine_a_resolution_for_the_range_gets_the_longest_range_it_serves(parts) -> None:
    source, store, clock = parts
    service = PriceService(source, store, clock)
    answer = service.candles("AAPL", "1Y", "1")
    assert answer.prices.range_name == "1W"
    _, start, end, _ = source.calls[0]
    assert end - start == timedelta(days=7)
    # The same copy serves the week asked for directly.
    assert service.candles("AAPL", "1W", "1").layer == "l1"
    assert set(store.items) == {("AAPL", "1", "1W")}


def test_daily_copies_stay_fresh_longer_than_intraday_but_not_past_midnight() -> None:
    assert fresh_until("D", NOW) - NOW == timedelta(hours=1)
    assert fresh_until("5", NOW) - NOW == timedelta(minutes=5)
    late = NOW.replace(hour=23, minute=30)
    assert fresh_until("D", late) == datetime(2025, 3, 15, tzinfo=UTC)


def test_candles_survive_the_compact_encoding() -> None:
    candles = (
        Candle(NOW.replace(minute=0, second=0, microsecond=0), 1.25, 2.5, 1.0, 2.0, 10),
        Candle(NOW.replace(minute=5, second=0, microsecond=0), 2.0, 2.75, 1.5, 2.5, 0),
    )
    assert decode_candles(encode_candles(candles)) == candles
    assert decode_candles(encode_candles(())) == ()


def test_a_stale_answer_keeps_what_was_stored(parts) -> None:
    source, store, clock = parts
    stored = PriceService(source, store, clock).candles("AAPL", "1M", "D").prices
    entry, expires = store.items[("AAPL", "D", "1M")]
    store.items[("AAPL", "D", "1M")] = (replace(entry, fresh_until=NOW), expires)
    source.failure = ProviderUnavailableError("tiingo", "down", 503)
    answer = PriceService(source, store, clock).candles("AAPL", "1M", "D")
    assert answer.stale and answer.prices.candles == stored.candles
