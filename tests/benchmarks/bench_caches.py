"""What the cache layers save, measured: the traffic generator's cache and load scenarios
against the embedded stack, with the DynamoDB reads the layers avoided and the reads their
misses made taken from `/api/v2/ops/caches` before and after each scenario; and cold vs warm
latency of the cached sentiment read from the same scenario's answers."""

from __future__ import annotations

import logging
import statistics
from typing import Any

import httpx

from services.settings import Settings
from services.traffic import Options, Target, run_scenario, run_sync
from tests.benchmarks.harness import BenchmarkResult, Context, benchmark
from tests.benchmarks.support import stack_with_news
from tests.e2e.api_support import operator_headers

WATCHLIST = ("AAPL", "MSFT", "NVDA", "AMZN", "JPM")
# The seed claims 80-95 % of reads avoided and about 200 ms -> 50 ms.
READS_AVOIDED_BUDGET = 0.90
WARM_TO_COLD_BUDGET = 0.25


def _totals(client: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v2/ops/caches", headers=headers)
    response.raise_for_status()
    totals: dict[str, Any] = response.json()["totals"]
    return totals


def _avoided(before: dict[str, Any], after: dict[str, Any]) -> tuple[int, int, float]:
    saved = after["reads_saved"] - before["reads_saved"]
    made = after["load_reads"] - before["load_reads"]
    return saved, made, saved / (saved + made) if saved + made else 0.0


@benchmark("cache_savings")
def cache_savings(ctx: Context) -> BenchmarkResult:
    result = BenchmarkResult(
        "cache_savings",
        "traffic generator's cache and load scenarios on the embedded stack: share of the "
        "DynamoDB reads behind cached answers that the layers avoided (reads saved / (saved + "
        "reads made by misses), from /ops/caches), and warm/cold latency of the cached "
        "configuration sentiment",
    )
    logging.disable(logging.INFO)
    try:
        settings = Settings(default_watchlist=",".join(WATCHLIST), log_level="WARNING")
        with stack_with_news(ctx, settings) as stack:
            assert stack.api is not None
            headers = operator_headers(stack)
            target = Target(stack.api.url, "local", headers["Authorization"].split(" ", 1)[1])
            runs = {
                "cache": Options(tickers=WATCHLIST, warm_requests=ctx.n(200, 20)),
                "load": Options(tickers=WATCHLIST[:3], users=ctx.n(20, 5), requests=ctx.n(50, 10)),
            }
            with httpx.Client(base_url=stack.api.url, timeout=30) as client:
                for name, options in runs.items():
                    before = _totals(client, headers)
                    scenario = run_sync(run_scenario(name, target, options))
                    saved, made, share = _avoided(before, _totals(client, headers))
                    result.add(
                        f"{name}_reads_avoided", share, "fraction",
                        budget=READS_AVOIDED_BUDGET, higher_is_better=True,
                    )  # fmt: skip
                    result.details[f"{name}_reads_saved"] = saved
                    result.details[f"{name}_reads_made_by_misses"] = made
                    result.details[f"{name}_requests"] = scenario.summary.requests
                    if name == "cache":
                        _cold_warm(result, scenario.records)
    finally:
        logging.disable(logging.NOTSET)
    return result


def _cold_warm(result: BenchmarkResult, records: Any) -> None:
    route = "/api/v2/configurations/{config_id}/sentiment"
    cold = [r.latency_ms for r in records if r.ok and r.route == route and r.cache == "miss"]
    warm = [r.latency_ms for r in records if r.ok and r.route == route and r.cache == "hit"]
    if not cold or not warm:
        raise RuntimeError(f"no cold or warm sentiment reads ({len(cold)} cold, {len(warm)} warm)")
    cold_ms, warm_ms = statistics.median(cold), statistics.median(warm)
    result.add("sentiment_cold_median", cold_ms, "ms")
    result.add("sentiment_warm_median", warm_ms, "ms")
    result.add("sentiment_warm_to_cold", warm_ms / cold_ms, "ratio", budget=WARM_TO_COLD_BUDGET)
    result.details["sentiment_cold_reads"] = len(cold)
    result.details["sentiment_warm_reads"] = len(warm)
