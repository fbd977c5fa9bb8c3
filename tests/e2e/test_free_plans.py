"""Free keys on every provider, on the embedded stack: an hour of simulated 5-minute ingestion
cycles against emulators that run the free plans. No circuit opens, no quota is exceeded
(ours or the emulators'), the sources the plans lack are `not_entitled` with the reason, our
model's sentiment is served from Finnhub's company news, and the quotas count exactly the
requests the emulators counted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.clock import utc_now
from services.local.stack import LocalStack
from services.settings import Settings
from tests.e2e.api_support import account, news_stack, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CYCLES = 12
EVERY = timedelta(minutes=5)
WATCHLIST = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "JPM")
FREE = Settings(
    tiingo_plan="free",
    finnhub_plan="free",
    sendgrid_plan="free",
    default_watchlist=",".join(WATCHLIST),
)


class SimulatedClock:
    """Time that moves only when the test says so (the hour ends ten minutes ago, so every
    story is in the past for the API, which reads the real clock)."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, step: timedelta) -> None:
        with self._lock:
            self.now += step


@pytest.fixture(scope="module")
def clock() -> SimulatedClock:
    start = utc_now().replace(second=0, microsecond=0) - CYCLES * EVERY - timedelta(minutes=5)
    # (a cycle at hh:59:59 would split its requests over two simulated minutes)
    start = start.replace(second=30)
    return SimulatedClock(start)


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, root: Path, clock: SimulatedClock
) -> Iterator[LocalStack]:
    with news_stack(root, tmp_path_factory.mktemp("free"), FREE, clock=clock) as running:
        yield running


def watch_volatility(stack: LocalStack, tickers: tuple[str, ...]) -> None:
    """Volatility rules, so analysis reads Tiingo's end-of-day prices (free on every plan)."""
    assert stack.api is not None
    with httpx.Client(base_url=stack.api.url, timeout=60) as client:
        _, headers = account(client, stack)
        config = client.post(
            "/api/v2/configurations",
            json={"name": "volatility", "tickers": list(tickers)},
            headers=headers,
        ).json()
        for ticker in tickers:
            rule = {
                "config_id": config["config_id"],
                "ticker": ticker,
                "alert_type": "volatility_threshold",
                "direction": "above",
                "threshold": 90,
            }
            created = client.post("/api/v2/alerts", json=rule, headers=headers)
            assert created.status_code == 201, created.text


@pytest.fixture(scope="module")
def hour(stack: LocalStack, clock: SimulatedClock) -> list[dict[str, Any]]:
    """The summaries of an hour of cycles, each analysed before the clock moves on."""
    watch_volatility(stack, WATCHLIST[:2])
    pipeline = stack.pipeline
    assert pipeline is not None and pipeline.topic is not None
    summaries = []
    for cycle in range(CYCLES):
        if cycle:
            clock.advance(EVERY)
        summaries.append(pipeline.run_ingestion_now())
        assert pipeline.topic.drain(timeout_s=120)
    return summaries


def test_every_cycle_runs_on_what_the_free_plans_allow(hour: list[dict[str, Any]]) -> None:
    for summary in hour:
        assert summary["errors"] == {}, summary
        assert set(summary["not_entitled"]) == {"tiingo", "finnhub_sentiment"}
        assert summary["fetched"]["tiingo"] == 0
    assert sum(s["new"] for s in hour) > 0


def test_no_circuit_opened_and_no_limit_was_reached(
    stack: LocalStack, hour: list[dict[str, Any]], client: httpx.Client, operator: dict[str, str]
) -> None:
    circuits = client.get("/api/v2/ops/circuits", headers=operator).json()
    assert all(c["state"] == "closed" for c in circuits["circuits"].values()), circuits
    assert circuits["transitions"] == []
    for url in (stack.pipeline.tiingo.root_url, stack.pipeline.finnhub.root_url):  # type: ignore[union-attr]
        usage = httpx.get(f"{url}/_emulator/usage").json()
        assert usage["plan"] == "free"
        assert all(limit["refused"] == 0 for limit in usage["limits"].values()), usage


def test_the_quotas_count_what_the_emulators_counted(
    stack: LocalStack, hour: list[dict[str, Any]]
) -> None:
    pipeline = stack.pipeline
    assert pipeline is not None and pipeline.guard is not None
    pipeline.guard.flush()
    ours = {
        (view.service, view.name): view.used
        for views in pipeline.guard.quotas.all_views(fresh=True).values()
        for view in views
    }
    finnhub = httpx.get(f"{pipeline.finnhub.root_url}/_emulator/usage").json()["limits"]  # type: ignore[union-attr]
    tiingo = httpx.get(f"{pipeline.tiingo.root_url}/_emulator/usage").json()["limits"]  # type: ignore[union-attr]
    # The current simulated minute holds the last cycle: one company-news request a ticker.
    assert ours[("finnhub", "requests_per_minute")] == len(WATCHLIST)
    assert finnhub["calls_per_minute"]["requests"] == len(WATCHLIST)
    assert ours[("finnhub", "requests_per_second")] == finnhub["calls_per_second"]["requests"]
    assert tiingo["requests_per_day"]["requests"] > 0
    assert ours[("tiingo", "requests_per_hour")] == tiingo["requests_per_hour"]["requests"]
    assert ours[("tiingo", "requests_per_day")] == tiingo["requests_per_day"]["requests"]
    assert ours[("tiingo", "symbols_per_month")] == tiingo["symbols_per_month"]["used"]


def test_sentiment_is_ours_and_the_missing_sources_say_why(
    hour: list[dict[str, Any]], client: httpx.Client
) -> None:
    headers = sign_in(client)
    created = client.post(
        "/api/v2/configurations",
        json={"name": "free keys", "tickers": list(WATCHLIST[:3])},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    config_id = created.json()["config_id"]
    body = client.get(f"/api/v2/configurations/{config_id}/sentiment", headers=headers).json()
    assert body["source_status"] == {"tiingo": "not_entitled", "finnhub": "not_entitled"}
    assert "free plan" in body["source_notes"]["tiingo"]
    assert "free plan" in body["source_notes"]["finnhub"]
    served = [t for t in body["tickers"] if "our_model" in t["sentiment"]["aggregated"]["used"]]
    assert served, body


def test_health_lists_the_endpoints_the_plans_exclude(
    hour: list[dict[str, Any]], client: httpx.Client
) -> None:
    plans = client.get("/health").json()["checks"]["plans"]
    assert plans["status"] == "healthy"
    refused = {(r["provider"], r["endpoint"]) for r in plans["not_entitled"]}
    assert refused == {("tiingo", "news"), ("finnhub", "news_sentiment"), ("finnhub", "candles")}
