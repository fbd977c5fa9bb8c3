"""What the functions record for the operator (the price cache, request minutes and metrics
snapshots, cache counters, ingestion runs, dead letters, the backfill) behind one fixture:
the in-memory stores (unit) and DynamoDB Local (integration)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.adapters.models import Candle
from services.clock import iso
from services.store.backfill import BackfillState, DynamoBackfillRepository
from services.store.cache_counts import DynamoCacheCounts, PublishedCaches
from services.store.dead_letters import DynamoDeadLetterRepository
from services.store.ingestion_runs import DynamoIngestionRunRepository
from services.store.metrics import ApiMinuteTooLargeError, DynamoMetricsStore
from services.store.ohlc_cache import MAX_PAYLOAD_BYTES, CachedCandles, DynamoOhlcCache
from tests.contracts.backends import BACKENDS, backend_stores

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@dataclass
class Stores:
    ohlc_cache: Any
    metrics: Any
    cache_counts: Any
    ingestion_runs: Any
    dead_letters: Any
    backfill: Any


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest) -> Stores:
    return backend_stores(
        request,
        Stores,
        ohlc_cache=DynamoOhlcCache,
        metrics=DynamoMetricsStore,
        cache_counts=DynamoCacheCounts,
        ingestion_runs=DynamoIngestionRunRepository,
        dead_letters=DynamoDeadLetterRepository,
        backfill=DynamoBackfillRepository,
    )


def candles(count: int) -> tuple[Candle, ...]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return tuple(
        Candle(start + timedelta(days=n), 100.0 + n, 101.5 + n, 99.25 + n, 100.5 + n, 1000 + n)
        for n in range(count)
    )


def cached(bars: tuple[Candle, ...], ticker: str = "AAPL") -> CachedCandles:
    return CachedCandles(
        ticker=ticker,
        resolution="D",
        range_name="1M",
        candles=bars,
        start_date=date(2026, 1, 1),
        end_date=date(2026, 1, 31),
        source="tiingo",
        fetched_at=NOW,
        fresh_until=NOW + timedelta(minutes=5),
    )


# --- the price cache ------------------------------------------------------------------------


def test_a_cached_copy_reads_back_whole_until_it_expires(stores: Stores) -> None:
    entry = cached(candles(3))
    assert stores.ohlc_cache.put(entry, NOW + timedelta(days=1))

    assert stores.ohlc_cache.get("AAPL", "D", "1M", NOW) == entry
    assert stores.ohlc_cache.get("AAPL", "D", "1M", NOW + timedelta(days=1)) is None
    assert stores.ohlc_cache.get("AAPL", "D", "3M", NOW) is None
    assert stores.ohlc_cache.get("MSFT", "D", "1M", NOW) is None


def test_the_last_copy_written_wins_and_one_too_large_is_refused(stores: Stores) -> None:
    stores.ohlc_cache.put(cached(candles(3)), NOW + timedelta(days=1))
    stores.ohlc_cache.put(cached(candles(5)), NOW + timedelta(days=1))
    found = stores.ohlc_cache.get("AAPL", "D", "1M", NOW)
    assert found is not None and len(found.candles) == 5

    # Rows that do not compress: far more than the payload limit once encoded.
    noisy = tuple(
        Candle(NOW + timedelta(minutes=n), n * 1.37, n * 2.11, n * 0.53, n * 1.91, n * 7919)
        for n in range(MAX_PAYLOAD_BYTES // 8)
    )
    assert not stores.ohlc_cache.put(cached(noisy, "BIG"), NOW + timedelta(days=1))
    assert stores.ohlc_cache.get("BIG", "D", "1M", NOW) is None


# --- metrics --------------------------------------------------------------------------------


def test_api_minutes_are_read_by_minute_range_including_the_last(stores: Stores) -> None:
    first, second, third = NOW, NOW + timedelta(minutes=1), NOW + timedelta(minutes=2)
    stores.metrics.put_api_minute(first, "i-1", {"requests": 1}, {"hits": 0})
    stores.metrics.put_api_minute(second, "i-1", {"requests": 2}, {})
    stores.metrics.put_api_minute(second, "i-2", {"requests": 3}, {})
    stores.metrics.put_api_minute(third, "i-1", {"requests": 4}, {})

    found = stores.metrics.api_minutes(first, second)

    assert [(m.minute, m.instance, m.stats["requests"]) for m in found] == [
        (first, "i-1", 1),
        (second, "i-1", 2),
        (second, "i-2", 3),
    ]
    assert found[0].caches == {"hits": 0}


def test_an_api_minute_too_large_for_an_item_is_refused(stores: Stores) -> None:
    huge = {f"route-{n}": "x" * 100 for n in range(4000)}
    with pytest.raises(ApiMinuteTooLargeError):
        stores.metrics.put_api_minute(NOW, "i-1", huge, {})
    assert stores.metrics.api_minutes(NOW, NOW) == []


def test_snapshots_the_latest_and_a_bounded_series_oldest_first(stores: Stores) -> None:
    assert stores.metrics.latest_snapshot() is None
    for n in range(4):
        stores.metrics.put_snapshot({"n": n, "nested": {"rate": n / 2}}, NOW + timedelta(minutes=n))

    assert stores.metrics.latest_snapshot() == {"n": 3, "nested": {"rate": 1.5}}
    series = stores.metrics.snapshots(NOW + timedelta(minutes=1))
    assert [s["n"] for s in series] == [1, 2, 3]
    assert [s["n"] for s in stores.metrics.snapshots(NOW, limit=2)] == [2, 3]


# --- cache counters -------------------------------------------------------------------------


def test_each_instance_overwrites_its_counters_and_old_ones_are_skipped(stores: Stores) -> None:
    layers = {"accounts": {"hits": 3, "misses": 1}}
    stores.cache_counts.publish(PublishedCaches("i-b", 41, NOW, layers))
    stores.cache_counts.publish(PublishedCaches("i-a", None, NOW - timedelta(minutes=1), {}))
    stores.cache_counts.publish(PublishedCaches("i-old", None, NOW - timedelta(minutes=5), {}))
    newer = {"accounts": {"hits": 4, "misses": 1}}
    stores.cache_counts.publish(PublishedCaches("i-b", 41, NOW, newer))

    found = stores.cache_counts.published_since(NOW - timedelta(minutes=2))

    assert found == [
        PublishedCaches("i-a", None, NOW - timedelta(minutes=1), {}),
        PublishedCaches("i-b", 41, NOW, newer),
    ]


# --- ingestion runs, dead letters and the backfill ------------------------------------------


def test_ingestion_runs_newest_first_and_bounded(stores: Stores) -> None:
    for n in range(3):
        started = iso(NOW + timedelta(minutes=n))
        stores.ingestion_runs.save({"started_at": started, "counts": {"new": n}, "ok": True})

    latest = stores.ingestion_runs.latest(limit=2)

    assert [run["counts"]["new"] for run in latest] == [2, 1]
    assert latest[0]["ok"] is True
    assert len(stores.ingestion_runs.latest()) == 3


def test_dead_letters_are_kept_per_topic(stores: Stores) -> None:
    stores.dead_letters.save("articles", "m-2", {"keys": ["k2"]}, "boom", NOW)
    stores.dead_letters.save("articles", "m-1", {"keys": ["k1"]}, "x" * 2000, NOW)
    stores.dead_letters.save("other", "m-3", {}, "boom", NOW)

    found = stores.dead_letters.list("articles")

    assert [d["message_id"] for d in found] == ["m-1", "m-2"]
    assert found[1] == {
        "message_id": "m-2",
        "message": {"keys": ["k2"]},
        "reason": "boom",
        "failed_at": iso(NOW),
    }
    assert len(found[0]["reason"]) == 1000
    assert len(stores.dead_letters.list("articles", limit=1)) == 1


def test_the_backfill_state_reads_back_as_saved(stores: Stores) -> None:
    assert stores.backfill.get() is None
    state = BackfillState(status="running", days_total=30, tickers=["AAPL"], seconds=1.5)

    stores.backfill.save(state)
    stores.backfill.save(state.but(days_done=3))

    assert stores.backfill.get() == state.but(days_done=3)
