"""CloudWatch Embedded Metric Format: one JSON document per metrics run.

In Lambda, a line of this shape on stdout becomes CloudWatch metrics with no API call; the
local stack writes the same lines to a file the workbench can read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

NAMESPACE = "SentimentDeepDive"


def _metric_values(snapshot: dict[str, Any]) -> dict[str, tuple[float, str]]:
    pipeline = snapshot["pipeline"]
    api = snapshot["api"]
    latency = api["latency_ms"]
    emails = snapshot["emails"]
    distribution = snapshot["sentiment_distribution"]
    values: dict[str, tuple[float | None, str]] = {
        "ArticlesPending": (pipeline.get("pending"), "Count"),
        "ArticlesAnalyzed": (pipeline.get("analyzed"), "Count"),
        "ArticlesPerMinute": (snapshot["ingestion"]["articles_per_minute"], "Count/Minute"),
        "SentimentPositive": (distribution.get("positive"), "Count"),
        "SentimentNeutral": (distribution.get("neutral"), "Count"),
        "SentimentNegative": (distribution.get("negative"), "Count"),
        "ApiRequests": (api["requests"], "Count"),
        "ApiErrors5xx": (api["errors_5xx"], "Count"),
        "ApiRateLimited": (api["rate_limited"], "Count"),
        "ApiLatencyP50": (latency.get("p50"), "Milliseconds"),
        "ApiLatencyP95": (latency.get("p95"), "Milliseconds"),
        "ApiLatencyP99": (latency.get("p99"), "Milliseconds"),
        "CacheHitRate": (snapshot["caches"].get("hit_rate"), "None"),
        "EmailsSent": (emails.get("sent"), "Count"),
        "EmailsQueued": (emails.get("queued"), "Count"),
    }
    # A figure without data (no requests yet) is left out rather than sent as zero.
    return {name: (float(v), unit) for name, (v, unit) in values.items() if v is not None}


def emf_document(
    snapshot: dict[str, Any], at: datetime, *, service: str, environment: str
) -> dict[str, Any]:
    values = _metric_values(snapshot)
    return {
        "_aws": {
            "Timestamp": int(at.timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["service", "environment"]],
                    "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in values.items()],
                }
            ],
        },
        "service": service,
        "environment": environment,
        **{name: value for name, (value, _) in values.items()},
    }
