"""The ingestion function: on its schedule, fetch news for every tracked ticker."""

from __future__ import annotations

from dataclasses import asdict
from functools import cache
from typing import Any

import boto3

from services.clock import utc_now
from services.composition import ingestion_dependencies, resilient_guard
from services.ingestion.run import IngestionDependencies, run_ingestion
from services.messaging.publisher import SnsPublisher
from services.observability import get_logger
from services.resilience.resilient_guard import ResilientGuard
from services.settings import Settings, get_settings, watchlist
from services.store.configurations import ConfigurationRepository, DynamoConfigurationRepository
from services.store.ingestion_runs import DynamoIngestionRunRepository, IngestionRunRepository
from services.store.table import dynamodb_table

LOGGER = get_logger("ingestion")


def tickers_to_fetch(settings: Settings, configs: ConfigurationRepository) -> list[str]:
    """Every ticker of a live configuration, plus the default watchlist."""
    return sorted(set(configs.tracked_tickers()) | set(watchlist(settings)))


def ingest(
    settings: Settings,
    deps: IngestionDependencies,
    configs: ConfigurationRepository,
    runs: IngestionRunRepository,
) -> dict[str, Any]:
    summary = asdict(run_ingestion(tickers_to_fetch(settings, configs), deps))
    if isinstance(deps.guard, ResilientGuard):
        # The cycle's quota counts reach the table now, not at the next cycle: between
        # cycles a Lambda environment is frozen (or gone, with whatever it had not written).
        deps.guard.flush()
    runs.save(summary)
    LOGGER.info("ingestion cycle finished", extra={"summary": summary})
    return summary


@cache
def _default() -> tuple[
    Settings, IngestionDependencies, ConfigurationRepository, IngestionRunRepository
]:
    settings = get_settings()
    if not settings.analysis_topic_arn:
        raise RuntimeError("ANALYSIS_TOPIC_ARN is not set: the ingestion function needs its topic")
    table = dynamodb_table(settings)
    sns = boto3.session.Session().client("sns", region_name=settings.aws_region)
    # Scheduled ingestion is not what a person waits for: its calls never use quota reserves.
    guard = resilient_guard(settings, table, utc_now)
    publisher = SnsPublisher(sns, settings.analysis_topic_arn)
    deps = ingestion_dependencies(settings, table, publisher, guard=guard)
    return (
        settings,
        deps,
        DynamoConfigurationRepository(table),
        DynamoIngestionRunRepository(table),
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge scheduled event in, the cycle's summary out."""
    return ingest(*_default())
