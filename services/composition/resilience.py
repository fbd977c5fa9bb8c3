"""Circuit breakers, quotas and plan entitlements: one of each per process (their caches are
the point), their state shared with every other instance through the store."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from services.adapters.plans import provider_plans
from services.auth.magic_link import SIGN_IN_SHARE
from services.clock import Clock, utc_now
from services.market.prices import PRICES_SHARE
from services.resilience.breaker import BreakerPolicy
from services.resilience.entitlements import Entitlements
from services.resilience.quota import QuotaLimit, QuotaPolicy, QuotaTracker
from services.resilience.resilient_guard import ResilientGuard
from services.settings import Settings
from services.store.circuits import CircuitStore, DynamoCircuitStore
from services.store.entitlements import DynamoEntitlementStore, EntitlementStore
from services.store.quotas import DynamoQuotaStore, QuotaStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

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


def resilient_guard(
    settings: Settings, circuits: CircuitStore, quotas: QuotaStore, clock: Clock = utc_now
) -> ResilientGuard:
    tracker = QuotaTracker(
        quota_limits(settings), quotas, clock, quota_policy(settings), quota_shares(settings)
    )
    return ResilientGuard(GUARDED_SERVICES, circuits, tracker, clock, breaker_policy(settings))


def table_guard(settings: Settings, table: Table, clock: Clock = utc_now) -> ResilientGuard:
    """The guard over the table's circuit and quota items."""
    keep = timedelta(seconds=settings.circuit_transition_ttl_s)
    circuits = DynamoCircuitStore(table, keep_transitions=keep)
    return resilient_guard(settings, circuits, DynamoQuotaStore(table), clock)


def entitlements(
    settings: Settings, refusals: EntitlementStore, clock: Clock = utc_now
) -> Entitlements:
    """The plans' endpoints, less what a provider refused (shared through the store)."""
    return Entitlements(
        provider_plans(settings),
        refusals,
        clock,
        refresh=timedelta(seconds=settings.entitlements_refresh_s),
    )


def table_entitlements(settings: Settings, table: Table, clock: Clock = utc_now) -> Entitlements:
    return entitlements(settings, DynamoEntitlementStore(table), clock)
