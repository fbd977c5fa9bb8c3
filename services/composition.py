"""Building the functions' collaborators from settings, in one place.

The Lambda handlers call these on their first invocation; the embedded stack calls them with
its own publisher (the local topic) and the same settings. Nothing here runs at import time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from services.adapters.finnhub import FinnhubAdapter
from services.adapters.tiingo import TiingoAdapter
from services.clock import utc_now
from services.ingestion.run import IngestionDependencies, IngestionPolicy
from services.messaging.publisher import Publisher
from services.resilience.guard import AllowAll, CallGuard
from services.settings import Settings
from services.store.articles import DynamoArticleRepository
from services.store.sentiment import DynamoSentimentStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def tiingo_adapter(settings: Settings) -> TiingoAdapter:
    return TiingoAdapter(
        settings.tiingo_base_url,
        settings.tiingo_api_key.get_secret_value(),
        timeout_s=settings.http_timeout_s,
    )


def finnhub_adapter(settings: Settings) -> FinnhubAdapter:
    return FinnhubAdapter(
        settings.finnhub_base_url,
        settings.finnhub_api_key.get_secret_value(),
        timeout_s=settings.http_timeout_s,
    )


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
    guard: CallGuard | None = None,
) -> IngestionDependencies:
    finnhub = finnhub_adapter(settings)
    return IngestionDependencies(
        news_sources=[tiingo_adapter(settings), finnhub],
        sentiment_source=finnhub,
        articles=DynamoArticleRepository(table),
        sentiment=DynamoSentimentStore(table),
        publisher=publisher,
        guard=guard or AllowAll(),
        clock=utc_now,
        policy=ingestion_policy(settings),
    )
