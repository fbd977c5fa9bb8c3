"""What callers send cannot grow the request minutes: requests are named by the app's declared
routes (every other path shares one name), a minute keeps a bounded number of keys, an
oversized minute is refused before any write, and a minute that cannot be written never
holds back the minutes after it."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.composition.api import table_api_dependencies
from services.functions.dashboard import Dashboard, build_dashboard, declared_routes
from services.local.function_url import LocalLambdaContext, build_event
from services.metrics.requests import (
    MAX_KEYS,
    OTHER,
    PREFLIGHT_ROUTE,
    UNMATCHED_ROUTE,
    MinuteStats,
    RequestMetrics,
)
from services.settings import Settings
from services.store.metrics import ApiMinuteTooLargeError, DynamoMetricsStore
from tests.unit.resilience.support import START, Clock

pytestmark = pytest.mark.unit


class Sink:
    """Keeps what was written; refuses the minutes it is told to, as often as it is told."""

    def __init__(self, refuse: dict[Any, Exception] | None = None) -> None:
        self.refuse = refuse or {}
        self.items: dict[Any, dict[str, Any]] = {}
        self.attempts: dict[Any, int] = {}

    def put_api_minute(self, minute, instance, stats, caches) -> None:  # type: ignore[no-untyped-def]
        self.attempts[minute] = self.attempts.get(minute, 0) + 1
        if minute in self.refuse:
            raise self.refuse[minute]
        self.items[minute] = {"stats": dict(stats), "caches": dict(caches)}


@pytest.fixture(scope="module")
def dashboard() -> Dashboard:
    return build_dashboard(table_api_dependencies(Settings(rate_limit_enabled=False)))


def sample_path(template: str) -> str:
    return re.sub(r"<[^>]+>", "abc123", template)


def test_every_declared_route_keeps_a_name_of_its_own(dashboard: Dashboard) -> None:
    routes = declared_routes(dashboard.app)
    assert len(routes) > 30  # the app's routes were found
    names = {dashboard.routes.name(r.method, sample_path(r.template)) for r in routes}
    assert len(names) == len(routes) and UNMATCHED_ROUTE not in names
    assert "GET /api/v2/tickers/{ticker}/ohlc" in names
    assert dashboard.routes.name("get", "/api/v2/tickers/AAPL/ohlc") == (
        "GET /api/v2/tickers/{ticker}/ohlc"
    )


def test_unknown_paths_and_methods_share_one_name(dashboard: Dashboard) -> None:
    made_up = [f"/api/v2/{uuid.uuid4().hex}" for _ in range(50)] + [
        "/wp-admin/install.php",
        "/api/v2/configurations/x/y/z",
        "/" + "a" * 5000,
    ]
    assert {dashboard.routes.name("GET", path) for path in made_up} == {UNMATCHED_ROUTE}
    assert dashboard.routes.name("TRACE", "/health") == UNMATCHED_ROUTE
    assert dashboard.routes.name("OPTIONS", "/api/v2/configurations") == PREFLIGHT_ROUTE


def test_a_flood_of_unknown_paths_through_the_function_adds_one_route_key(
    dashboard: Dashboard,
) -> None:
    # Given the function's request figures going to a sink
    sink, clock = Sink(), Clock()
    dashboard.deps.request_metrics = RequestMetrics("i1", sink, clock)  # type: ignore[misc]
    context = LocalLambdaContext(function_name="t", aws_request_id="r")
    # When a caller sends 300 made-up paths and one real request
    for n in range(300):
        event = build_event(
            method="GET",
            raw_path=f"/api/v2/nothing-{n}",
            headers={},
            body=b"",
            source_ip="10.0.0.9",
            domain="t",
        )
        assert dashboard(event, context)["statusCode"] == 404
    openapi = build_event(
        method="GET",
        raw_path="/api/v2/openapi.json",
        headers={},
        body=b"",
        source_ip="1",
        domain="t",
    )
    dashboard(openapi, context)
    # Then the minute written holds two route names, the unknown ones counted under one
    clock.advance(61)
    dashboard.deps.request_metrics.flush()
    routes = sink.items[START]["stats"]["routes"]
    assert routes == {UNMATCHED_ROUTE: 300, "GET /api/v2/openapi.json": 1}


def test_a_minute_keeps_at_most_max_keys_and_adds_up_the_rest() -> None:
    stats = MinuteStats()
    for n in range(5 * MAX_KEYS):
        stats.add(f"GET /route-{n}", 200 + n % 7, 1.0)
    assert len(stats.routes) == MAX_KEYS + 1 and OTHER in stats.routes
    assert sum(stats.routes.values()) == stats.requests == 5 * MAX_KEYS
    # A minute stored by anyone, however many keys it holds, is capped when read back
    wide = {"requests": 1000, "routes": {f"r{n}": 1 for n in range(1000)}}
    assert len(MinuteStats.from_json(wide).routes) == MAX_KEYS + 1
    merged = MinuteStats()
    merged.merge(stats)
    merged.merge(MinuteStats.from_json(wide))
    assert len(merged.routes) == MAX_KEYS + 1
    assert sum(merged.routes.values()) == 5 * MAX_KEYS + 1000
    assert len(json.dumps(merged.to_json())) < 20_000


def test_a_minute_that_cannot_be_written_never_holds_back_the_next_ones() -> None:
    # Given a sink that fails every write of the first minute, and one it refuses outright
    clock = Clock()
    stuck, refused = START, START + timedelta(minutes=1)
    sink = Sink({stuck: ConnectionError("throttled"), refused: ApiMinuteTooLargeError("too large")})
    metrics = RequestMetrics("i1", sink, clock, flush_interval=timedelta(seconds=60))
    # When requests come in minute after minute
    for _ in range(6):
        metrics.record("GET /health", 200, 2.0)
        clock.advance(60)
    metrics.flush()
    # Then every later minute was written, the failing one was tried a bounded number of
    # times and the unwritable one once, both dropped; nothing is left pending
    later = {START + timedelta(minutes=m) for m in range(2, 6)}
    assert later <= set(sink.items)
    assert sink.attempts[stuck] == 3 and sink.attempts[refused] == 1
    assert metrics.dropped_minutes == 2
    assert metrics.flush() == 0 and sink.attempts[stuck] == 3


@pytest.fixture
def metrics_store(moto_table: Any) -> tuple[DynamoMetricsStore, Any]:
    return DynamoMetricsStore(moto_table), moto_table


def test_the_store_refuses_an_oversized_minute_before_any_write(
    metrics_store: tuple[DynamoMetricsStore, Any],
) -> None:
    store, table = metrics_store
    oversized = {"requests": 1, "routes": {"x" * 500 + str(n): 1 for n in range(1000)}}
    with pytest.raises(ApiMinuteTooLargeError):
        store.put_api_minute(START, "i1", oversized, {})
    assert table.scan()["Count"] == 0
    store.put_api_minute(START, "i1", MinuteStats().to_json(), {})
    assert [m.instance for m in store.api_minutes(START, START)] == ["i1"]
