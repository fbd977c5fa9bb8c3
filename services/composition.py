"""Building the functions' collaborators from settings, in one place.

The Lambda handlers call these on their first invocation; the embedded stack calls them with
its own publisher (the local topic) and the same settings. Nothing here runs at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from services.adapters.email import SendGridEmailSender
from services.adapters.finnhub import FinnhubAdapter
from services.adapters.plans import provider_plans
from services.adapters.tiingo import TiingoAdapter
from services.alerts.evaluate import EvaluationSummary, evaluate_alerts, volatility_from_candles
from services.auth.magic_link import SIGN_IN_SHARE
from services.clock import Clock, utc_now
from services.ingestion.run import IngestionDependencies, IngestionPolicy
from services.market.prices import PRICES_SHARE, PriceService
from services.messaging.publisher import Publisher
from services.notifications.alert_mail import AlertMailer
from services.notifications.deliver import DeliveryPolicy
from services.resilience.breaker import BreakerPolicy
from services.resilience.entitlements import Entitlements
from services.resilience.guard import AllowAll, CallGuard
from services.resilience.quota import QuotaLimit, QuotaPolicy, QuotaTracker
from services.resilience.resilient_guard import ResilientGuard
from services.settings import Settings
from services.store.alerts import DynamoAlertRepository
from services.store.articles import DynamoArticleRepository
from services.store.circuits import DynamoCircuitStore
from services.store.configurations import DynamoConfigurationRepository
from services.store.entitlements import DynamoEntitlementStore
from services.store.ohlc_cache import DynamoOhlcCache
from services.store.outbox import DynamoOutbox
from services.store.preferences import DynamoPreferenceRepository
from services.store.quotas import DynamoQuotaStore
from services.store.sentiment import DynamoSentimentStore
from services.store.users import DynamoUserRepository

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


def email_sender(settings: Settings) -> SendGridEmailSender:
    return SendGridEmailSender(
        settings.sendgrid_base_url,
        settings.sendgrid_api_key.get_secret_value(),
        from_address=settings.email_from_address,
        from_name=settings.email_from_name,
        timeout_s=settings.http_timeout_s,
    )


def outbox(settings: Settings, table: Table) -> DynamoOutbox:
    return DynamoOutbox(table, keep_history=timedelta(seconds=settings.email_history_ttl_s))


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        retry_base=timedelta(seconds=settings.email_retry_base_s),
        retry_max=timedelta(seconds=settings.email_retry_max_s),
        lease=timedelta(seconds=settings.email_send_lease_s),
    )


# Checks the alert rules of the tickers an analysis batch touched.
AlertChecker = Callable[[Sequence[str]], EvaluationSummary]


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


def quota_limits(settings: Settings) -> dict[str, tuple[QuotaLimit, ...]]:
    """Each guarded service's quotas: its plan's limits, and the own budget when one is set
    (`budget_per_<period>`, counted on top of them)."""
    plans = provider_plans(settings)
    budgets = {
        "tiingo": (settings.tiingo_quota_limit, settings.tiingo_quota_period),
        "finnhub": (settings.finnhub_quota_limit, settings.finnhub_quota_period),
        "sendgrid": (settings.sendgrid_quota_limit, settings.sendgrid_quota_period),
    }
    limits: dict[str, tuple[QuotaLimit, ...]] = {}
    for service in GUARDED_SERVICES:
        quotas = [QuotaLimit(p.limit, p.period, p.counts) for p in plans[service].limits]
        budget, period = budgets[service]
        if budget is not None:
            quotas.append(QuotaLimit(budget, period, name=f"budget_per_{period}"))
        limits[service] = tuple(quotas)
    return limits


def quota_shares(settings: Settings) -> dict[str, dict[str, float]]:
    """The shares of providers' request quotas kept for calls anybody can cause: sign-in
    e-mails within SendGrid's, the API's price fetches within Tiingo's."""
    return {
        "sendgrid": {SIGN_IN_SHARE: settings.sendgrid_sign_in_share},
        "tiingo": {PRICES_SHARE: settings.tiingo_prices_share},
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
        quota_limits(settings),
        DynamoQuotaStore(table),
        clock,
        quota_policy(settings),
        quota_shares(settings),
    )
    return ResilientGuard(
        GUARDED_SERVICES,
        DynamoCircuitStore(table, keep_transitions=keep),
        quotas,
        clock,
        breaker_policy(settings),
    )


def entitlements(settings: Settings, table: Table, clock: Clock = utc_now) -> Entitlements:
    """The plans' endpoints, less what a provider refused (shared through the table)."""
    return Entitlements(
        provider_plans(settings),
        DynamoEntitlementStore(table),
        clock,
        refresh=timedelta(seconds=settings.entitlements_refresh_s),
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
    clock: Clock = utc_now,
) -> IngestionDependencies:
    finnhub = finnhub_adapter(settings)
    return IngestionDependencies(
        news_sources=[tiingo_adapter(settings), finnhub],
        sentiment_source=finnhub,
        articles=DynamoArticleRepository(table),
        sentiment=DynamoSentimentStore(table),
        publisher=publisher,
        guard=guard or AllowAll(),
        clock=clock,
        policy=ingestion_policy(settings),
        entitlements=entitlements(settings, table, clock),
    )


def alert_checker(
    settings: Settings, table: Table, guard: CallGuard, clock: Clock = utc_now
) -> AlertChecker:
    """Evaluates the alert rules of the tickers an analysis batch touched: ensemble scores
    from the buckets, volatility from daily candles (through Tiingo's guard, cached)."""
    prices = PriceService(tiingo_adapter(settings), DynamoOhlcCache(table), clock, guard=guard)
    mailer = AlertMailer(
        users=DynamoUserRepository(table),
        configurations=DynamoConfigurationRepository(table),
        preferences=DynamoPreferenceRepository(table),
        outbox=outbox(settings, table),
        settings=settings,
        clock=clock,
    )
    volatility = volatility_from_candles(
        lambda ticker: prices.candles(ticker, "3M", "D").prices.candles,
        settings.volatility_atr_days,
    )
    alerts = DynamoAlertRepository(table)
    sentiment = DynamoSentimentStore(table)

    def check(tickers: Sequence[str]) -> EvaluationSummary:
        return evaluate_alerts(
            tickers,
            alerts=alerts,
            sentiment=sentiment,
            volatility=volatility,
            mailer=mailer,
            clock=clock,
        )

    return check
