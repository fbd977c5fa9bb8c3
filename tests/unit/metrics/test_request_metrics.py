"""The API's request figures: histogram percentiles, minutes written at most once per
interval and retried after a failed write; the metrics function's merge. (Route names and
the caps of a minute: `test_route_names_and_caps.py`; the EMF document: `test_emf.py`.)"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from services.metrics.collect import cache_figures, ingestion_rate, latency
from services.metrics.requests import GROWTH, MinuteStats, RequestMetrics, merged
from services.store.metrics import ApiMinute
from tests.unit.resilience.support import START, Clock

pytestmark = pytest.mark.unit


class Sink:
    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.items: dict[tuple[Any, str], dict[str, Any]] = {}
        self.writes = 0

    def put_api_minute(self, minute, instance, stats, caches) -> None:  # type: ignore[no-untyped-def]
        if self.fail:
            self.fail -= 1
            raise ConnectionError("table unavailable")
        self.writes += 1
        self.items[(minute, instance)] = {"stats": dict(stats), "caches": dict(caches)}


def test_percentiles_are_within_one_bucket_of_the_exact_ones() -> None:
    rng = random.Random(3)
    durations = [rng.lognormvariate(2.5, 0.8) for _ in range(5000)]
    stats = MinuteStats()
    for d in durations:
        stats.add("GET /health", 200, d)
    ordered = sorted(durations)
    for fraction in (0.5, 0.95, 0.99):
        exact = ordered[int(fraction * len(ordered)) - 1]
        found = stats.percentile_ms(fraction)
        assert found is not None and exact <= found <= exact * GROWTH


def test_minutes_of_several_instances_merge_by_adding() -> None:
    a, b = MinuteStats(), MinuteStats()
    for _ in range(3):
        a.add("GET /health", 200, 5.0)
    b.add("GET /health", 429, 50.0)
    total = merged([MinuteStats.from_json(a.to_json()), MinuteStats.from_json(b.to_json())])
    assert total.requests == 4 and total.statuses == {"200": 3, "429": 1}
    assert latency(total)["max"] == 50.0 and latency(total)["avg"] == pytest.approx(16.25)


def test_minutes_are_written_at_most_once_per_interval() -> None:
    clock, sink = Clock(), Sink()
    metrics = RequestMetrics("i1", sink, clock, caches=lambda: {"accounts": {"hits": 1}})
    for _ in range(10):
        metrics.record("GET /health", 200, 3.0)
        clock.advance(5)
    assert sink.writes == 0
    clock.advance(15)  # a minute since the start
    metrics.record("GET /health", 200, 3.0)
    assert sink.writes == 2  # the two minutes touched so far, once each
    item = sink.items[(START, "i1")]
    assert item["stats"]["requests"] == 10 and item["caches"] == {"accounts": {"hits": 1}}


def test_a_failed_write_keeps_the_minutes_for_the_next_flush() -> None:
    clock, sink = Clock(), Sink(fail=1)
    metrics = RequestMetrics("i1", sink, clock, flush_interval=timedelta(seconds=60))
    metrics.record("GET /health", 200, 3.0)
    clock.advance(61)
    metrics.record("GET /health", 500, 9.0)  # the first write fails, the request does not
    assert sink.writes == 1  # the minute after the failed one went out all the same
    assert metrics.flush() == 1  # the failed minute, again
    assert sink.items[(START, "i1")]["stats"]["requests"] == 1


def minute(instance: str, at_minute: int, hits: int, misses: int) -> ApiMinute:
    return ApiMinute(
        START + timedelta(minutes=at_minute),
        instance,
        MinuteStats().to_json(),
        {"sentiment": {"hits": hits, "misses": misses}},
    )


def test_hit_rates_add_each_instances_latest_counts() -> None:
    minutes = [minute("a", 0, 1, 1), minute("a", 1, 8, 2), minute("b", 0, 2, 8)]
    figures = cache_figures(minutes)
    assert (figures["hits"], figures["misses"]) == (10, 10)
    assert figures["hit_rate"] == 0.5


def test_ingestion_rate_counts_the_runs_of_the_window() -> None:
    runs = [
        {
            "started_at": (START - timedelta(minutes=m)).isoformat(),
            "new": 30,
            "fetched": {"tiingo": 40},
        }
        for m in (5, 30, 90)
    ]
    rate = ingestion_rate(runs, START, timedelta(hours=1))
    assert (rate["runs"], rate["new_articles"], rate["fetched"]) == (2, 60, 80)
    assert rate["articles_per_minute"] == 1.0
