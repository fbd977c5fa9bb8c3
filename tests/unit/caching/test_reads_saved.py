"""Counting the reads a cache saves: the botocore hook counts read calls per thread (moto
answers them), each entry remembers what its load read, each hit adds that, and the registry
reports every layer and their totals."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from services.caching.reads import reads_on_this_thread, record_read, watch_reads
from services.caching.registry import CacheRegistry
from services.caching.ttl import TtlCache
from tests.clock import SecondsClock

pytestmark = pytest.mark.unit


def reading(n: int, value: str = "v") -> Any:
    """A loader that makes `n` reads (as the botocore hook would count them)."""

    def load() -> str:
        for _ in range(n):
            record_read()
        return value

    return load


@pytest.fixture
def table(moto_table: Any) -> Any:
    return moto_table


# --- the hook --------------------------------------------------------------------------------


def test_every_read_call_is_counted_and_no_write(table: Any) -> None:
    # Given a watched client (watched twice: still one handler)
    client = table.meta.client
    watch_reads(client)
    watch_reads(client)
    table.put_item(Item={"PK": "A", "SK": "1"})
    before = reads_on_this_thread()
    # When the table is read in each of the ways DynamoDB offers, and written once more
    table.get_item(Key={"PK": "A", "SK": "1"})
    table.query(KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": "A"})
    table.scan()
    # (the resource's client takes plain values, as the repositories pass them)
    client.batch_get_item(RequestItems={table.name: {"Keys": [{"PK": "A", "SK": "1"}]}})
    client.transact_get_items(
        TransactItems=[{"Get": {"TableName": table.name, "Key": {"PK": "A", "SK": "1"}}}]
    )
    table.put_item(Item={"PK": "B", "SK": "1"})
    # Then five reads were counted, on this thread
    assert reads_on_this_thread() - before == 5


def test_reads_on_other_threads_are_not_this_threads(table: Any) -> None:
    watch_reads(table.meta.client)
    before = reads_on_this_thread()
    worker = threading.Thread(target=lambda: table.get_item(Key={"PK": "A", "SK": "1"}))
    worker.start()
    worker.join()
    assert reads_on_this_thread() == before


def test_a_cache_over_a_watched_table_saves_what_its_load_read(table: Any) -> None:
    watch_reads(table.meta.client)
    cache: TtlCache[Any] = TtlCache("items", 60.0, monotonic=SecondsClock(100.0))

    def load() -> Any:
        table.get_item(Key={"PK": "A", "SK": "1"})
        return table.query(
            KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": "A"}
        )

    for _ in range(4):
        cache.get_or_load("A", load)
    assert (cache.stats.hits, cache.stats.load_reads, cache.stats.reads_saved) == (3, 2, 6)


# --- the cache -------------------------------------------------------------------------------


def test_each_hit_saves_what_its_own_entry_cost_to_load() -> None:
    cache: TtlCache[str] = TtlCache("t", 60.0, monotonic=SecondsClock(100.0))
    cache.get_or_load("five-tickers", reading(5))
    cache.get_or_load("one-ticker", reading(1))
    for _ in range(2):
        cache.get_or_load("five-tickers", reading(5))
    for _ in range(3):
        cache.get_or_load("one-ticker", reading(1))
    stats = cache.layer_stats()
    assert (stats.hits, stats.misses, stats.loads, stats.load_reads) == (5, 2, 2, 6)
    assert stats.reads_saved == 2 * 5 + 3 * 1
    assert stats.reads_per_load == 3.0


def test_a_load_that_uses_another_cache_counts_the_reads_it_made_through_it() -> None:
    inner: TtlCache[str] = TtlCache("inner", 60.0, monotonic=SecondsClock(100.0))
    outer: TtlCache[str] = TtlCache("outer", 60.0, monotonic=SecondsClock(100.0))

    def outer_load() -> str:
        record_read()
        value, _ = inner.get_or_load("k", reading(2))
        return value

    outer.get_or_load("k", outer_load)  # 1 + 2 reads
    outer.get_or_load("k", outer_load)
    assert outer.stats.reads_saved == 3
    # an outer miss whose inner part hits costs only its own read
    outer.invalidate("k")
    outer.get_or_load("k", outer_load)
    outer.get_or_load("k", outer_load)
    assert outer.stats.reads_saved == 3 + 1 and inner.stats.reads_saved == 2


def test_a_failed_load_stores_nothing_and_is_not_a_load() -> None:
    cache: TtlCache[str] = TtlCache("t", 60.0, monotonic=SecondsClock(100.0))

    def failing() -> str:
        record_read()
        raise LookupError("gone")

    with pytest.raises(LookupError):
        cache.get_or_load("k", failing)
    assert (cache.stats.misses, cache.stats.loads, len(cache)) == (1, 0, 0)


def test_a_ttl_of_zero_switches_the_cache_off() -> None:
    cache: TtlCache[str] = TtlCache("off", 0.0, monotonic=SecondsClock(100.0))
    for _ in range(3):
        assert cache.get_or_load("k", reading(2)) == ("v", False)
    stats = cache.layer_stats()
    assert (stats.hits, stats.misses, stats.entries, stats.reads_saved) == (0, 3, 0, 0)


def test_expired_entries_leave_the_count_of_entries() -> None:
    clock = SecondsClock(100.0)
    cache: TtlCache[str] = TtlCache("t", 60.0, monotonic=clock)
    cache.get_or_load("a", reading(1))
    clock.now += 61
    assert cache.layer_stats().entries == 0


# --- the registry ----------------------------------------------------------------------------


def test_the_registry_reports_every_layer_and_their_totals() -> None:
    registry = CacheRegistry()
    sessions = registry.register(TtlCache[str]("sessions", 15.0, monotonic=SecondsClock(100.0)))
    configs = registry.register(
        TtlCache[str]("configuration_lists", 60.0, monotonic=SecondsClock(100.0))
    )
    for _ in range(4):
        sessions.get_or_load("token", reading(2))
    configs.get_or_load("user", reading(1))
    report = registry.report()
    assert report["layers"]["sessions"] == {
        "ttl_s": 15.0,
        "hits": 3,
        "misses": 1,
        "hit_rate": 0.75,
        "entries": 1,
        "reads_saved": 6,
        "loads": 1,
        "reads_per_load": 2.0,
    }
    assert report["layers"]["configuration_lists"]["hits"] == 0
    assert report["totals"] == {
        "hits": 3,
        "misses": 2,
        "hit_rate": 0.6,
        "entries": 2,
        "reads_saved": 6,
        "loads": 2,
        "load_reads": 3,
    }


def test_a_second_layer_under_a_taken_name_is_refused() -> None:
    registry = CacheRegistry()
    layer = registry.register(TtlCache[str]("sessions", 15.0))
    assert registry.register(layer) is layer  # the same layer again is fine
    with pytest.raises(ValueError):
        registry.register(TtlCache[str]("sessions", 15.0))
