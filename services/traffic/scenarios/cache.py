"""Cache warm-up: the same reads cold, then warm, with the `X-Cache` header of each answer.

A new configuration's sentiment is always cold on its first read (the cache is keyed by the
configuration and its version), then served from the cache; OHLC candles are cold the first
time a ticker, range and resolution are asked for (in memory, then the table's copy). The
latencies are the client's round trips."""

from __future__ import annotations

import statistics
from typing import Any

from services.traffic.client import TrafficClient
from services.traffic.scenarios.base import Options, ScenarioResult
from services.traffic.stats import RequestRecord

NAME = "cache"
DESCRIPTION = "cold vs warm latency of cached reads (X-Cache)"
# Hourly candles: a resolution the other scenarios do not ask for, so a fresh stack has them cold.
OHLC_RESOLUTION = "60"
OHLC_RANGE = "1M"
SENTIMENT_ROUTE = "/api/v2/configurations/{config_id}/sentiment"
OHLC_ROUTE = "/api/v2/tickers/{ticker}/ohlc"


def _latencies(records: list[RequestRecord], route: str, cache: str) -> list[float]:
    return [r.latency_ms for r in records if r.ok and r.route == route and r.cache == cache]


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "mean_ms": round(statistics.fmean(values), 2) if values else None,
        "median_ms": round(statistics.median(values), 2) if values else None,
    }


async def run(client: TrafficClient, options: Options, result: ScenarioResult) -> None:
    recorder = client.recorder
    warm = options.warm_requests
    tickers = list(options.tickers[:5])
    planned = 3 + (1 + warm) * (1 + len(tickers))
    recorder.step("creating a session and a configuration", total=planned)
    bearer = await client.anonymous_session()
    config_id = None
    if bearer is not None:
        config_id = await client.create_configuration(bearer, "Cache warm-up", tickers)
    if not result.check("configuration created", config_id is not None):
        return

    recorder.step("sentiment: one cold read, then warm reads")
    sentiment = await _read_sentiment(client, bearer, config_id, reads=1 + warm)

    recorder.step("OHLC: the first read of each ticker, then warm reads")
    # A session of its own: both phases together would pass the per-session rate limit.
    bearer = await client.anonymous_session()
    ohlc_first = await _read_ohlc(client, bearer, tickers, reads=1 + warm)

    warm_ms = _check_sentiment_cold_then_warm(result, sentiment, warm)
    result.details.update(_latency_details(result.records, sentiment, warm_ms, ohlc_first))


async def _read_sentiment(
    client: TrafficClient, bearer: str | None, config_id: str | None, reads: int
) -> list[RequestRecord]:
    """The configuration's sentiment `reads` times in a row, each read's record in order."""
    records = []
    for _ in range(reads):
        answer = await client.request(
            "GET",
            f"/api/v2/configurations/{config_id}/sentiment",
            bearer=bearer,
            route=SENTIMENT_ROUTE,
        )
        records.append(answer.record)
    return records


async def _read_ohlc(
    client: TrafficClient, bearer: str | None, tickers: list[str], reads: int
) -> dict[str, str | None]:
    """Each ticker's candles `reads` times in a row; the `X-Cache` of each ticker's first read."""
    first_read_cache: dict[str, str | None] = {}
    for ticker in tickers:
        for n in range(reads):
            answer = await client.request(
                "GET",
                f"/api/v2/tickers/{ticker}/ohlc",
                params={"range": OHLC_RANGE, "resolution": OHLC_RESOLUTION},
                bearer=bearer,
                route=OHLC_ROUTE,
            )
            if n == 0:
                first_read_cache[ticker] = answer.record.cache
    return first_read_cache


def _check_sentiment_cold_then_warm(
    result: ScenarioResult, sentiment: list[RequestRecord], warm: int
) -> list[float]:
    """The first read missed, every later one hit, and the hits were faster; returns the
    latencies of the hits."""
    cold = sentiment[0]
    warm_ms = [r.latency_ms for r in sentiment[1:] if r.ok and r.cache == "hit"]
    result.check("first sentiment read is a miss", cold.cache == "miss", f"X-Cache {cold.cache}")
    result.check(
        "later sentiment reads are hits",
        len(warm_ms) == warm,
        f"{len(warm_ms)} of {warm} were hits",
    )
    warm_median = statistics.median(warm_ms) if warm_ms else None
    result.check(
        "warm faster than cold",
        warm_median is not None and warm_median < cold.latency_ms,
        f"cold {cold.latency_ms:.1f} ms, warm median "
        + (f"{warm_median:.1f} ms" if warm_median is not None else "n/a"),
    )
    return warm_ms


def _latency_details(
    records: list[RequestRecord],
    sentiment: list[RequestRecord],
    warm_ms: list[float],
    ohlc_first: dict[str, str | None],
) -> dict[str, Any]:
    cold = sentiment[0]
    warm_median = statistics.median(warm_ms) if warm_ms else None
    return {
        "sentiment_first_cache": cold.cache,
        "sentiment_cold_ms": round(cold.latency_ms, 2),
        "sentiment_warm": _stats(warm_ms),
        "sentiment_speedup": round(cold.latency_ms / warm_median, 2) if warm_median else None,
        "ohlc_cold": _stats(_latencies(records, OHLC_ROUTE, "miss")),
        "ohlc_warm": _stats(_latencies(records, OHLC_ROUTE, "hit")),
        "ohlc_first_read_cache": ohlc_first,
        # Every read in order, for a latency-by-request plot.
        "series": [
            {"n": i, "route": r.route, "cache": r.cache, "latency_ms": round(r.latency_ms, 2)}
            for i, r in enumerate(records)
            if r.route in (SENTIMENT_ROUTE, OHLC_ROUTE)
        ],
    }
