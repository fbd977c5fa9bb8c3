"""One run of the metrics function: count the system's figures, keep them for
`/api/v2/ops/metrics`, and emit them as CloudWatch EMF."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.clock import Clock, utc_now
from services.metrics.collect import ArticleCounts, OutboxCounts, collect_metrics
from services.metrics.emf import emf_document
from services.store.ingestion_runs import IngestionRunRepository
from services.store.metrics import MetricsStore


@dataclass(frozen=True)
class MetricsDependencies:
    articles: ArticleCounts
    runs: IngestionRunRepository
    outbox: OutboxCounts
    store: MetricsStore
    # The EMF document's dimensions.
    service: str
    environment: str
    # Where the EMF line goes: stdout in Lambda (CloudWatch reads it from the log stream).
    emit: Callable[[str], None] = print
    clock: Clock = utc_now


def run_metrics(deps: MetricsDependencies) -> dict[str, Any]:
    snapshot = collect_metrics(
        articles=deps.articles,
        runs=deps.runs,
        outbox=deps.outbox,
        api=deps.store,
        clock=deps.clock,
    )
    at = deps.clock()
    deps.store.put_snapshot(snapshot, at)
    document = emf_document(snapshot, at, service=deps.service, environment=deps.environment)
    deps.emit(json.dumps(document, separators=(",", ":")))
    return snapshot
