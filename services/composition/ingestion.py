"""The ingestion function's collaborators: both news providers, the store, the analysis
topic, its own guard."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from services.clock import Clock, utc_now
from services.composition.providers import finnhub_adapter, sns_client, tiingo_adapter
from services.composition.resilience import table_entitlements, table_guard
from services.ingestion.cycle import IngestionCycle
from services.ingestion.run import IngestionDependencies, IngestionPolicy
from services.messaging.publisher import Publisher, SnsPublisher
from services.resilience.guard import CallGuard
from services.resilience.resilient_guard import ResilientGuard
from services.settings import Settings, get_settings, watchlist
from services.store.articles import DynamoArticleRepository
from services.store.configurations import DynamoConfigurationRepository
from services.store.ingestion_runs import DynamoIngestionRunRepository
from services.store.sentiment import DynamoSentimentStore
from services.store.table import dynamodb_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def ingestion_policy(settings: Settings) -> IngestionPolicy:
    return IngestionPolicy(
        lookback=timedelta(seconds=settings.ingestion_lookback_s),
        publish_batch_size=settings.publish_batch_size,
        stale_pending_after=timedelta(seconds=settings.stale_pending_after_s),
    )


def ingestion_dependencies(
    settings: Settings,
    table: Table,
    publisher: Publisher,
    guard: CallGuard,
    clock: Clock = utc_now,
) -> IngestionDependencies:
    finnhub = finnhub_adapter(settings)
    return IngestionDependencies(
        news_sources=[tiingo_adapter(settings), finnhub],
        sentiment_source=finnhub,
        articles=DynamoArticleRepository(table),
        sentiment=DynamoSentimentStore(table),
        publisher=publisher,
        guard=guard,
        clock=clock,
        policy=ingestion_policy(settings),
        entitlements=table_entitlements(settings, table, clock),
    )


def ingestion_cycle(
    settings: Settings,
    table: Table,
    publisher: Publisher,
    guard: ResilientGuard,
    clock: Clock = utc_now,
) -> IngestionCycle:
    """A cycle through `guard`. Scheduled ingestion is not what a person waits for: its calls
    never use quota reserves."""
    return IngestionCycle(
        fetch=ingestion_dependencies(settings, table, publisher, guard, clock),
        configurations=DynamoConfigurationRepository(table),
        runs=DynamoIngestionRunRepository(table),
        watchlist=watchlist(settings),
        flush_quotas=guard.flush,
    )


@cache
def deployed_ingestion() -> IngestionCycle:
    """The Lambda function's cycle: settings from the environment, the analysis topic over
    SNS. Built on the first invocation and kept by warm ones."""
    settings = get_settings()
    if not settings.analysis_topic_arn:
        raise RuntimeError("ANALYSIS_TOPIC_ARN is not set: the ingestion function needs its topic")
    publisher = SnsPublisher(sns_client(settings), settings.analysis_topic_arn)
    table = dynamodb_table(settings)
    return ingestion_cycle(settings, table, publisher, table_guard(settings, table))
