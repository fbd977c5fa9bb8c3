"""The API through the local Function URL server: /health latency (handler + a real DynamoDB
check), and the cached read routes under concurrent load against a constant-response reference."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx

from services.composition.api import table_api_dependencies
from services.functions import dashboard
from services.local.dynamodb_local import DynamoDBLocal
from services.local.function_url import FunctionUrlServer
from services.market.universe import TickerUniverse
from services.settings import Settings
from services.store.table import dynamodb_client, ensure_table
from tests.benchmarks.harness import (
    BenchmarkResult,
    Context,
    benchmark,
    latency_summary,
    percentile,
)
from tests.benchmarks.support import configuration_reads, stack_with_news
from tests.e2e.api_support import sign_in


@benchmark("health_endpoint")
def health_endpoint(ctx: Context) -> BenchmarkResult:
    result = BenchmarkResult("health_endpoint", "GET /health over HTTP, one keep-alive client")
    dynamo = DynamoDBLocal(root=ctx.root, port=0).start()
    server = None
    try:
        settings = Settings(
            dynamodb_endpoint=dynamo.endpoint, table_name=f"bench-{uuid.uuid4().hex[:6]}"
        )
        ensure_table(dynamodb_client(settings), settings.table_name)
        server = FunctionUrlServer(
            dashboard.build_dashboard(table_api_dependencies(settings))
        ).start()
        with httpx.Client(base_url=server.url) as client:
            for _ in range(20):
                client.get("/health")
            samples = []
            for _ in range(ctx.n(1000, 100)):
                started = time.perf_counter()
                response = client.get("/health")
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200
        latency_summary(result, "health", samples)
    finally:
        if server is not None:
            server.stop()
        dynamo.stop()
    return result


# --- the cached read routes at 20 concurrent clients -----------------------------------------

CONCURRENCY = 20
WATCHLIST = ("AAPL", "MSFT", "NVDA", "AMZN", "JPM")
RANGES = ("1W", "1M", "3M", "6M", "1Y")
CONSTANT_BODY = json.dumps({"status": "ok", "note": "the reference: a constant answer"})


def _load(url: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
    """One closed-loop run of the load generator in its own process (see loadgen.py)."""
    plan = {"url": url, "concurrency": CONCURRENCY, "requests": requests}
    finished = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.loadgen"],
        input=json.dumps(plan), capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return dict(json.loads(finished.stdout))


def _record(
    result: BenchmarkResult, prefix: str, run: dict[str, Any], *, budgets: bool = False
) -> None:
    statuses = run["statuses"]
    if set(statuses) != {"200"}:
        raise RuntimeError(f"{prefix}: not every answer was 200: {statuses}")
    latencies_ms = [s * 1000 for s in run["latencies_s"]]
    result.add(f"{prefix}_p50", percentile(latencies_ms, 50), "ms")
    result.add(f"{prefix}_p99", percentile(latencies_ms, 99), "ms",
               budget=25 if budgets else None)  # fmt: skip
    result.add(f"{prefix}_throughput", len(latencies_ms) / run["elapsed_s"], "requests/s",
               budget=1000 if budgets else None, higher_is_better=True)  # fmt: skip
    result.details[f"{prefix}_requests"] = len(latencies_ms)


def _constant_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": CONSTANT_BODY}  # fmt: skip


@benchmark("api_cached_reads")
def api_cached_reads(ctx: Context) -> BenchmarkResult:
    users = ctx.n(200, 40)
    warm_requests = ctx.n(20_000, 2_000)
    result = BenchmarkResult(
        "api_cached_reads",
        f"GET /configurations/{{id}}/sentiment (signed in, {len(WATCHLIST)} tickers) and "
        f"GET /tickers/{{t}}/ohlc at {CONCURRENCY} concurrent keep-alive clients in another "
        "process; cold = first read of a key (cache miss), warm = cached; reference = the same "
        "Function URL server answering a constant response",
    )
    logging.disable(logging.INFO)
    reference = FunctionUrlServer(_constant_handler).start()
    try:
        settings = Settings(default_watchlist=",".join(WATCHLIST), log_level="WARNING")
        with stack_with_news(ctx, settings) as stack:
            assert stack.api is not None
            with httpx.Client(base_url=stack.api.url, timeout=30) as client:
                sentiment = configuration_reads(client, users, WATCHLIST)
                # A cache miss makes the API fetch from Tiingo, which needs a session.
                prices_session = sign_in(client)
            symbols = [t for t in TickerUniverse.load().symbols][: ctx.n(60, 12)]
            ohlc = [
                {"path": f"/api/v2/tickers/{symbol}/ohlc?range={name}", "headers": prices_session}
                for symbol in symbols
                for name in RANGES
            ]
            _record(result, "sentiment_cold", _load(stack.api.url, sentiment))
            warm = [sentiment[i % len(sentiment)] for i in range(warm_requests)]
            _record(result, "sentiment_warm", _load(stack.api.url, warm), budgets=True)
            _record(result, "ohlc_cold", _load(stack.api.url, ohlc))
            # Cached prices are served to anyone: the warm reads carry no session to check.
            warm = [{"path": ohlc[i % len(ohlc)]["path"]} for i in range(warm_requests)]
            _record(result, "ohlc_warm", _load(stack.api.url, warm))
        reference_plan = [{"path": "/constant"}] * warm_requests
        _record(result, "reference", _load(reference.url, reference_plan))
    finally:
        logging.disable(logging.NOTSET)
        reference.stop()
    return result
