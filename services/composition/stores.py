"""The DynamoDB repositories over the single table, as the functions and the API use them."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from services.api.dependencies import ApiStore
from services.settings import Settings
from services.store.alerts import DynamoAlertRepository
from services.store.allowances import DynamoAllowanceStore
from services.store.articles import DynamoArticleRepository
from services.store.backfill import DynamoBackfillRepository
from services.store.cache_counts import DynamoCacheCounts
from services.store.census import DynamoTableCensus
from services.store.circuits import DynamoCircuitStore
from services.store.configurations import DynamoConfigurationRepository
from services.store.entitlements import DynamoEntitlementStore
from services.store.ingestion_runs import DynamoIngestionRunRepository
from services.store.metrics import DynamoMetricsStore
from services.store.ohlc_cache import DynamoOhlcCache
from services.store.outbox import DynamoOutbox
from services.store.preferences import DynamoPreferenceRepository
from services.store.quotas import DynamoQuotaStore
from services.store.rate_windows import DynamoRateWindows
from services.store.sentiment import DynamoSentimentStore
from services.store.sessions import DynamoSessionRepository
from services.store.tokens import DynamoTokenRepository
from services.store.users import DynamoUserRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def outbox(settings: Settings, table: Table) -> DynamoOutbox:
    return DynamoOutbox(table, keep_history=timedelta(seconds=settings.email_history_ttl_s))


def dynamo_api_store(settings: Settings, table: Table) -> ApiStore:
    """Every repository the API's routes use, over one table (building them does no I/O)."""
    keep_transitions = timedelta(seconds=settings.circuit_transition_ttl_s)
    return ApiStore(
        users=DynamoUserRepository(table),
        sessions=DynamoSessionRepository(table),
        tokens=DynamoTokenRepository(table),
        configurations=DynamoConfigurationRepository(table),
        alerts=DynamoAlertRepository(table),
        preferences=DynamoPreferenceRepository(table),
        outbox=outbox(settings, table),
        articles=DynamoArticleRepository(table),
        sentiment=DynamoSentimentStore(table),
        ohlc_cache=DynamoOhlcCache(table),
        metrics=DynamoMetricsStore(table),
        cache_counts=DynamoCacheCounts(table),
        rate_windows=DynamoRateWindows(table),
        allowances=DynamoAllowanceStore(table),
        circuits=DynamoCircuitStore(table, keep_transitions=keep_transitions),
        quotas=DynamoQuotaStore(table),
        entitlements=DynamoEntitlementStore(table),
        ingestion_runs=DynamoIngestionRunRepository(table),
        backfill=DynamoBackfillRepository(table),
        census=DynamoTableCensus(table),
    )
