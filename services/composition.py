"""Building the functions' collaborators from settings, in one place.

The Lambda handlers call these on their first invocation; the embedded stack calls them with
its own publisher (the local topic) and the same settings. Nothing here runs at import time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from services.adapters.finnhub import FinnhubAdapter
from services.adapters.tiingo import TiingoAdapter
from services.clock import Clock, utc_now
from services.ingestion.run import IngestionDependencies, IngestionPolicy
from services.messaging.publisher import Publisher
from services.resilience.breaker import BreakerPolicy
from services.resilience.guard import AllowAll, CallGuard
from services.resilience.quota import QuotaLimit, QuotaPolicy, QuotaTracker
from services.resilience.resilient_guard import ResilientGuard
from services.settings import Settings
from services.store.articles import DynamoArticleRepository
from services.store.circuits import DynamoCircuitStore
from services.store.quotas import DynamoQuotaStore
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


# The external services every function instance guards (circuit and quota each).
GUARDED_SERVICES = ("tiingo", "finnhub", "sendgrid")


def breaker_policy(settings: Settings) -> BreakerPolicy:
    return BreakerPolicy(
        failure_threshold=settings.circuit_failure_threshold,
        failure_window=timedelta(seconds=settings.circuit_failure_window_s),
        open_timeout=timedelta(seconds=settings.circuit_open_timeout_s),
        cache_ttl=timedelta(seconds=settings.circuit_cache_ttl_s),
        trial_timeout=timedelta(seconds=settings.circuit_trial_timeout_s),
    )


def quota_limits(settings: Settings) -> dict[str, QuotaLimit]:
    return {
        "tiingo": QuotaLimit(settings.tiingo_quota_limit, settings.tiingo_quota_period),
        "finnhub": QuotaLimit(settings.finnhub_quota_limit, settings.finnhub_quota_period),
        "sendgrid": QuotaLimit(settings.sendgrid_quota_limit, settings.sendgrid_quota_period),
    }


def quota_policy(settings: Settings) -> QuotaPolicy:
    return QuotaPolicy(
        warning_fraction=settings.quota_warning_fraction,
        critical_fraction=settings.quota_critical_fraction,
        reserve_fraction=settings.quota_reserve_fraction,
        sync_interval=timedelta(seconds=settings.quota_sync_interval_s),
        batch_fraction=settings.quota_batch_fraction,
        keep_after_period=timedelta(seconds=settings.quota_counter_ttl_s),
    )


def resilient_guard(settings: Settings, table: Table, clock: Clock = utc_now) -> ResilientGuard:
    """Circuit breakers and quotas over the table: one per process (its caches are the
    point), shared state with every other instance."""
    keep = timedelta(seconds=settings.circuit_transition_ttl_s)
    quotas = QuotaTracker(
        quota_limits(settings), DynamoQuotaStore(table), clock, quota_policy(settings)
    )
    return ResilientGuard(
        GUARDED_SERVICES,
        DynamoCircuitStore(table, keep_transitions=keep),
        quotas,
        clock,
        breaker_policy(settings),
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
