"""The dashboard function's collaborators: the API's store, its providers, its guard."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from services.adapters.email import EmailSender
from services.adapters.protocol import CandleSource
from services.api.dependencies import ApiDependencies, ApiStore
from services.caching.reads import watch_reads
from services.clock import Clock, utc_now
from services.composition.providers import email_sender, oidc_client, tiingo_adapter
from services.composition.resilience import entitlements, resilient_guard
from services.composition.stores import outbox
from services.ops.model_card import CARD_FILE
from services.resilience.chaos import ChaosSwitches, chaos_switches
from services.settings import Settings, get_settings
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
from services.store.preferences import DynamoPreferenceRepository
from services.store.quotas import DynamoQuotaStore
from services.store.rate_windows import DynamoRateWindows
from services.store.sentiment import DynamoSentimentStore
from services.store.sessions import DynamoSessionRepository
from services.store.table import dynamodb_table
from services.store.tokens import DynamoTokenRepository
from services.store.users import DynamoUserRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def api_dependencies(
    settings: Settings,
    store: ApiStore,
    *,
    clock: Clock = utc_now,
    seconds: Callable[[], float] = time.time,
    prices_source: CandleSource | None = None,
    sender: EmailSender | None = None,
    chaos: ChaosSwitches | None = None,
    oidc_http: httpx.Client | None = None,
    traced_client: Any = None,
    ingestion_runner: Callable[[], dict[str, Any]] | None = None,
    pipeline_stats: Callable[[], dict[str, int]] | None = None,
    metrics_runner: Callable[[], dict[str, Any]] | None = None,
    live_accuracy: Callable[[int], dict[str, Any]] | None = None,
    execution_environments: Callable[[], list[dict[str, Any]]] | None = None,
    model_card_path: Path = CARD_FILE,
) -> ApiDependencies:
    """The API over `store`; the providers default to the clients the settings name
    (`oidc_http` carries the OAuth provider's calls). The runtime hooks are the local stack's
    (see `ApiDependencies`)."""
    return ApiDependencies(
        settings=settings,
        store=store,
        prices_source=prices_source or tiingo_adapter(settings),
        email_sender=sender or email_sender(settings),
        chaos=chaos or chaos_switches(settings),
        oidc=oidc_client(settings, oidc_http),
        guard=resilient_guard(settings, store.circuits, store.quotas, clock),
        entitlements=entitlements(settings, store.entitlements, clock),
        clock=clock,
        seconds=seconds,
        traced_client=traced_client,
        ingestion_runner=ingestion_runner,
        pipeline_stats=pipeline_stats,
        metrics_runner=metrics_runner,
        live_accuracy=live_accuracy,
        execution_environments=execution_environments,
        model_card_path=model_card_path,
    )


def table_api_dependencies(
    settings: Settings, table: Table | None = None, **options: Any
) -> ApiDependencies:
    """The API over the DynamoDB table the settings name (or `table`). Its cache layers
    measure the reads their loads make through the table's client, and the request traces
    time that client's calls."""
    table = table if table is not None else dynamodb_table(settings)
    watch_reads(table.meta.client)
    store = dynamo_api_store(settings, table)
    return api_dependencies(settings, store, traced_client=table.meta.client, **options)


@cache
def deployed_api() -> ApiDependencies:
    """The Lambda function's collaborators, built on its first invocation."""
    return table_api_dependencies(get_settings())


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
