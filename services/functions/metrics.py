"""The metrics function, every minute: count the system's figures, store them for
`/api/v2/ops/metrics`, and emit them as CloudWatch EMF."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from services.clock import Clock, utc_now
from services.composition import outbox
from services.metrics.collect import collect_metrics
from services.metrics.emf import emf_document
from services.settings import Settings, get_settings
from services.store.articles import DynamoArticleRepository
from services.store.ingestion_runs import DynamoIngestionRunRepository
from services.store.metrics import DynamoMetricsStore
from services.store.outbox import DynamoOutbox
from services.store.table import dynamodb_table


@dataclass(frozen=True)
class MetricsDependencies:
    settings: Settings
    articles: DynamoArticleRepository
    runs: DynamoIngestionRunRepository
    outbox: DynamoOutbox
    store: DynamoMetricsStore
    # Where the EMF line goes: stdout in Lambda (CloudWatch reads it from the log stream).
    emit: Callable[[str], None] = print
    clock: Clock = utc_now


def metrics_dependencies(
    settings: Settings,
    table: Any,
    *,
    emit: Callable[[str], None] = print,
    clock: Clock = utc_now,
) -> MetricsDependencies:
    return MetricsDependencies(
        settings=settings,
        articles=DynamoArticleRepository(table, clock=clock),
        runs=DynamoIngestionRunRepository(table),
        outbox=outbox(settings, table),
        store=DynamoMetricsStore(
            table, keep_snapshots=timedelta(seconds=settings.metrics_snapshot_ttl_s)
        ),
        emit=emit,
        clock=clock,
    )


@cache
def _default() -> MetricsDependencies:
    settings = get_settings()
    return metrics_dependencies(settings, dynamodb_table(settings))


def handler(
    event: dict[str, Any], context: Any, deps: MetricsDependencies | None = None
) -> dict[str, Any]:
    deps = deps or _default()
    snapshot = collect_metrics(
        articles=deps.articles,
        runs=deps.runs,
        outbox=deps.outbox,
        api=deps.store,
        clock=deps.clock,
    )
    at = deps.clock()
    deps.store.put_snapshot(snapshot, at)
    settings = deps.settings
    document = emf_document(
        snapshot, at, service=settings.service_name, environment=settings.environment
    )
    deps.emit(json.dumps(document, separators=(",", ":")))
    return snapshot
