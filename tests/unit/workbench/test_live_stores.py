"""The header's live figures: health, the client's latency, cache hit rate and circuits."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.workbench.loop import run
from tests.unit.workbench.memory_api import MemoryApi
from workbench.client import ApiClient
from workbench.stores.health import HealthStore
from workbench.stores.latency import LatencyStore
from workbench.stores.live import LiveTiles
from workbench.stores.ops import OpsStore, cache_counts

pytestmark = pytest.mark.unit


OPERATOR = MemoryApi().operator_token


def tiles(api: MemoryApi, client: ApiClient, token: str | None = OPERATOR) -> LiveTiles:
    return LiveTiles(
        health=HealthStore(client),
        latency=LatencyStore(client),
        ops=OpsStore(client, lambda: token),
    )


def test_ops_tiles_say_why_when_the_routes_are_not_there_yet(
    api: MemoryApi, client: ApiClient
) -> None:
    # Given an API without the ops routes (404), When refreshed, Then n/a with the reason.
    live = tiles(api, client)
    run(live.refresh())
    ops = live.ops
    assert (ops.caches_status, ops.circuits_status) == ("missing", "missing")
    assert ops.hit_rate is None
    assert "404" in ops.caches_note and "goes live" in ops.caches_note
    assert "/api/v2/ops/circuits" in ops.circuits_note


def test_ops_tiles_go_live_when_the_routes_appear(api: MemoryApi, client: ApiClient) -> None:
    # Given the routes missing at first, When they appear, Then the next refresh shows figures.
    live = tiles(api, client)
    run(live.refresh())
    api.ops_routes = True
    api.read_sentiment(4)
    api.fail_provider("finnhub", 5)
    run(live.refresh())
    ops = live.ops
    assert ops.caches_status == "live" and ops.cache_hits and ops.cache_misses
    assert ops.hit_rate == ops.cache_hits / (ops.cache_hits + ops.cache_misses)
    assert "configuration_sentiment: 75% (3/4)" in ops.caches_note
    assert (ops.circuits_healthy, ops.circuits_total) == (2, 3)
    assert ops.circuit_states["finnhub"] == "open"
    assert "finnhub: open (5/5 failures)" in ops.circuits_note


def test_without_an_operator_token_nothing_is_asked(api: MemoryApi, client: ApiClient) -> None:
    live = tiles(api, client, token=None)
    run(live.refresh())
    assert live.ops.caches_status == "no_token"
    assert not any("/ops/" in r for r in api.requests)


def test_a_refused_token_is_named(api: MemoryApi, client: ApiClient) -> None:
    api.ops_routes = True
    live = tiles(api, client, token="wrong")
    run(live.refresh())
    assert live.ops.caches_status == "unauthorized"
    assert "refused the operator token" in live.ops.caches_note


def test_refresh_reads_health_and_publishes_the_latency_window(
    api: MemoryApi, client: ApiClient
) -> None:
    live = tiles(api, client)
    run(live.refresh())
    assert live.health.status == "healthy"
    assert live.health.checks["dynamodb"]["status"] == "healthy"
    # /health and both ops routes were API calls the client timed.
    assert live.latency.count == 3
    assert live.latency.mean_ms is not None and live.latency.p99_ms is not None
    assert live.refreshes == 1


def test_an_unhealthy_system_moves_the_health_tile(api: MemoryApi, client: ApiClient) -> None:
    live = tiles(api, client)
    api.memory.census.unavailable = "the table does not answer"
    run(live.refresh())
    assert live.health.status == "unhealthy"


def test_a_period_that_finds_a_refresh_running_is_skipped(
    api: MemoryApi, client: ApiClient
) -> None:
    # Given a refresh in flight, When the next period fires, Then it does not pile up.
    live = tiles(api, client)

    async def overlapping() -> None:
        await asyncio.gather(live.refresh(), live.refresh())

    run(overlapping())
    assert (live.refreshes, live.skipped) == (1, 1)


def test_cache_counts_sum_layers_when_no_totals() -> None:
    body = {"layers": {"a": {"hits": 1, "misses": 1}, "b": {"hits": 2, "misses": 0}}}
    assert cache_counts(body) == (3, 1, ["a: 50% (1/2)", "b: 100% (2/2)"])
    assert cache_counts({"layers": {}}) is None
    assert cache_counts([]) is None
