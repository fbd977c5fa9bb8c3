"""One run of the metrics function: the system's figures, counted from the table.

Pipeline counts by status and the sentiment distribution are COUNT queries on the indexes
that hold them; the ingestion rate comes from the stored run summaries; API latency
percentiles, request counts and cache hit rates from the minutes the API instances wrote;
e-mails by state from the outbox. Nothing here is estimated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.clock import Clock, iso, parse_iso
from services.metrics.requests import MinuteStats, merged, minute_of
from services.store.metrics import ApiMinute

SENTIMENT_LABELS = ("positive", "neutral", "negative")
PIPELINE_STATUSES = ("pending", "analyzed")


class ArticleCounts(Protocol):
    def count_by_status(self, status: str) -> int: ...
    def count_by_sentiment(self, label: str, *, since: datetime) -> int: ...


class IngestionRuns(Protocol):
    def latest(self, limit: int = 10) -> list[dict[str, Any]]: ...


class OutboxCounts(Protocol):
    def count_by_state(self) -> dict[str, int]: ...


class ApiMinutes(Protocol):
    def api_minutes(self, since: datetime, until: datetime) -> list[ApiMinute]: ...


@dataclass(frozen=True, slots=True)
class MetricsWindows:
    # API figures and the ingestion rate cover the last hour; the sentiment distribution
    # the last day; the per-minute series the last 30 minutes.
    api: timedelta = timedelta(hours=1)
    sentiment: timedelta = timedelta(days=1)
    series: timedelta = timedelta(minutes=30)


def collect_metrics(
    *,
    articles: ArticleCounts,
    runs: IngestionRuns,
    outbox: OutboxCounts,
    api: ApiMinutes,
    clock: Clock,
    windows: MetricsWindows = MetricsWindows(),
) -> dict[str, Any]:
    now = clock()
    pipeline = {status: articles.count_by_status(status) for status in PIPELINE_STATUSES}
    since = now - windows.sentiment
    distribution = {
        label: articles.count_by_sentiment(label, since=since) for label in SENTIMENT_LABELS
    }
    minutes = api.api_minutes(now - windows.api, now)
    emails = outbox.count_by_state()
    return {
        "computed_at": iso(now),
        "pipeline": {**pipeline, "total": sum(pipeline.values())},
        "ingestion": ingestion_rate(runs.latest(50), now, windows.api),
        "sentiment_distribution": {
            **distribution,
            "total": sum(distribution.values()),
            "window_s": int(windows.sentiment.total_seconds()),
        },
        "api": api_figures(minutes, now, windows),
        "caches": cache_figures(minutes),
        "emails": {**emails, "total": sum(emails.values())},
    }


def ingestion_rate(runs: list[dict[str, Any]], now: datetime, window: timedelta) -> dict[str, Any]:
    recent = [r for r in runs if parse_iso(str(r["started_at"])) >= now - window]
    new = sum(int(r.get("new", 0)) for r in recent)
    fetched = sum(sum((r.get("fetched") or {}).values()) for r in recent)
    minutes = window.total_seconds() / 60
    return {
        "runs": len(recent),
        "new_articles": new,
        "fetched": fetched,
        "articles_per_minute": round(new / minutes, 3),
        "last_run_at": runs[0]["started_at"] if runs else None,
        "window_s": int(window.total_seconds()),
    }


def api_figures(minutes: list[ApiMinute], now: datetime, windows: MetricsWindows) -> dict[str, Any]:
    total = merged(MinuteStats.from_json(m.stats) for m in minutes)
    statuses = dict(total.statuses)
    window_minutes = windows.api.total_seconds() / 60
    return {
        "requests": total.requests,
        "requests_per_minute": round(total.requests / window_minutes, 3),
        "errors_5xx": sum(n for code, n in statuses.items() if code.startswith("5")),
        "rate_limited": statuses.get("429", 0),
        "status_counts": statuses,
        "routes": dict(total.routes.most_common(20)),
        "latency_ms": latency(total),
        "instances": len({m.instance for m in minutes}),
        "per_minute": per_minute(minutes, now, windows.series),
        "window_s": int(windows.api.total_seconds()),
    }


def latency(stats: MinuteStats) -> dict[str, float | None]:
    average = stats.total_ms / stats.requests if stats.requests else None
    return {
        "avg": _round(average),
        "p50": _round(stats.percentile_ms(0.50)),
        "p95": _round(stats.percentile_ms(0.95)),
        "p99": _round(stats.percentile_ms(0.99)),
        "max": _round(stats.max_ms if stats.requests else None),
    }


def per_minute(minutes: list[ApiMinute], now: datetime, span: timedelta) -> list[dict[str, Any]]:
    by_minute: dict[datetime, MinuteStats] = {}
    for item in minutes:
        if item.minute >= minute_of(now - span):
            by_minute.setdefault(item.minute, MinuteStats()).merge(
                MinuteStats.from_json(item.stats)
            )
    return [
        {"minute": iso(minute), "requests": stats.requests, **latency(stats)}
        for minute, stats in sorted(by_minute.items())
    ]


def cache_figures(minutes: list[ApiMinute]) -> dict[str, Any]:
    """Hit rates across instances: each instance's latest cumulative counts, added up."""
    latest: dict[str, ApiMinute] = {}
    for item in minutes:
        if item.instance not in latest or item.minute > latest[item.instance].minute:
            latest[item.instance] = item
    layers: dict[str, dict[str, int]] = {}
    for item in latest.values():
        for name, counts in item.caches.items():
            layer = layers.setdefault(name, {"hits": 0, "misses": 0})
            layer["hits"] += int(counts.get("hits", 0))
            layer["misses"] += int(counts.get("misses", 0))
    hits = sum(layer["hits"] for layer in layers.values())
    misses = sum(layer["misses"] for layer in layers.values())
    return {
        "layers": {
            name: {**c, "hit_rate": _rate(c["hits"], c["misses"])} for name, c in layers.items()
        },
        "hits": hits,
        "misses": misses,
        "hit_rate": _rate(hits, misses),
    }


def _rate(hits: int, misses: int) -> float | None:
    return round(hits / (hits + misses), 4) if hits + misses else None


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def cache_counts(layers: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """The part of a cache registry's report an API instance writes with its minutes."""
    return {
        name: {"hits": int(layer.get("hits", 0)), "misses": int(layer.get("misses", 0))}
        for name, layer in layers.items()
    }
