"""CloudWatch Embedded Metric Format: one JSON document per metrics run.

In Lambda, a line of this shape on stdout becomes CloudWatch metrics with no API call; the
local stack writes the same lines to a file the workbench can read. Powertools builds and
checks the document (units CloudWatch knows, at most 100 metrics, a namespace).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

NAMESPACE = "SentimentDeepDive"


def _metric_values(snapshot: dict[str, Any]) -> dict[str, tuple[float, MetricUnit]]:
    pipeline = snapshot["pipeline"]
    api = snapshot["api"]
    latency = api["latency_ms"]
    emails = snapshot["emails"]
    distribution = snapshot["sentiment_distribution"]
    count, milliseconds = MetricUnit.Count, MetricUnit.Milliseconds
    values: dict[str, tuple[float | None, MetricUnit]] = {
        "ArticlesPending": (pipeline.get("pending"), count),
        "ArticlesAnalyzed": (pipeline.get("analyzed"), count),
        # CloudWatch has no per-minute unit: the rate's period is in the metric's name.
        "ArticlesPerMinute": (snapshot["ingestion"]["articles_per_minute"], count),
        "SentimentPositive": (distribution.get("positive"), count),
        "SentimentNeutral": (distribution.get("neutral"), count),
        "SentimentNegative": (distribution.get("negative"), count),
        "ApiRequests": (api["requests"], count),
        "ApiErrors5xx": (api["errors_5xx"], count),
        "ApiRateLimited": (api["rate_limited"], count),
        "ApiLatencyP50": (latency.get("p50"), milliseconds),
        "ApiLatencyP95": (latency.get("p95"), milliseconds),
        "ApiLatencyP99": (latency.get("p99"), milliseconds),
        "CacheHitRate": (snapshot["caches"].get("hit_rate"), MetricUnit.NoUnit),
        "EmailsSent": (emails.get("sent"), count),
        "EmailsQueued": (emails.get("queued"), count),
    }
    # A figure without data (no requests yet) is left out rather than sent as zero.
    return {name: (float(v), unit) for name, (v, unit) in values.items() if v is not None}


def emf_document(
    snapshot: dict[str, Any], at: datetime, *, service: str, environment: str
) -> dict[str, Any]:
    # Ephemeral: `Metrics` keeps its figures in class attributes shared by every instance of
    # the process, while each run here must carry its own snapshot and nothing else.
    metrics = EphemeralMetrics(namespace=NAMESPACE, service=service)
    metrics.add_dimension(name="environment", value=environment)
    metrics.set_timestamp(at)
    for name, (value, unit) in _metric_values(snapshot).items():
        metrics.add_metric(name=name, unit=unit, value=value)
    return {**metrics.serialize_metric_set()}
