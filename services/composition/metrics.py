"""The metrics function's collaborators: what it counts, and where its snapshot goes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from services.clock import Clock, utc_now
from services.composition.stores import outbox
from services.metrics.run import MetricsDependencies
from services.settings import Settings, get_settings
from services.store.articles import DynamoArticleRepository
from services.store.ingestion_runs import DynamoIngestionRunRepository
from services.store.metrics import DynamoMetricsStore
from services.store.table import dynamodb_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def metrics_dependencies(
    settings: Settings,
    table: Table,
    *,
    emit: Callable[[str], None] = print,
    clock: Clock = utc_now,
) -> MetricsDependencies:
    keep = timedelta(seconds=settings.metrics_snapshot_ttl_s)
    return MetricsDependencies(
        articles=DynamoArticleRepository(table, clock=clock),
        runs=DynamoIngestionRunRepository(table),
        outbox=outbox(settings, table),
        store=DynamoMetricsStore(table, keep_snapshots=keep),
        service=settings.service_name,
        environment=settings.environment,
        emit=emit,
        clock=clock,
    )


@cache
def deployed_metrics() -> MetricsDependencies:
    """The Lambda function's collaborators, built on its first invocation."""
    settings = get_settings()
    return metrics_dependencies(settings, dynamodb_table(settings))
