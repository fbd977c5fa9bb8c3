"""What the API's routes depend on, built once per process and passed in."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.adapters.email import EmailSender
from services.adapters.protocol import CandleSource
from services.auth.accounts import AccountSignIn, SignIn
from services.auth.oauth import IdTokenVerifier, JwksCache, OAuthSignIn, OidcClient
from services.auth.sign_in_limits import SignInEmailLimits
from services.caching.registry import CacheRegistry
from services.caching.shared import SharedCacheCounts
from services.caching.ttl import TtlCache
from services.clock import Clock, utc_now
from services.configurations.manage import ConfigurationService
from services.market.fetch_limits import PriceFetchLimits
from services.market.prices import PRICES_SHARE, PriceService
from services.market.universe import TickerUniverse
from services.metrics.collect import cache_counts
from services.metrics.requests import SHARED_FLUSH_INTERVAL, RequestMetrics
from services.ops.model_card import CARD_FILE, ModelCardFile
from services.resilience.allowance import Allowances
from services.resilience.chaos import ChaosSwitches
from services.resilience.entitlements import Entitlements
from services.resilience.rate_limit import RateLimiter, SharedWindows, rate_limiter
from services.resilience.resilient_guard import ResilientGuard
from services.settings import Settings
from services.store.alerts import AlertRepository
from services.store.allowances import AllowanceStore
from services.store.articles import ArticleRepository
from services.store.backfill import BackfillRepository
from services.store.cache_counts import CacheCountsStore
from services.store.census import TableCensus
from services.store.circuits import CircuitStore
from services.store.configurations import ConfigurationRepository
from services.store.entitlements import EntitlementStore
from services.store.ingestion_runs import IngestionRunRepository
from services.store.metrics import MetricsStore
from services.store.models import Configuration, User
from services.store.ohlc_cache import OhlcCacheStore
from services.store.outbox import OutboxStore
from services.store.preferences import PreferenceRepository
from services.store.quotas import QuotaStore
from services.store.sentiment import SentimentStore
from services.store.sessions import SessionRepository
from services.store.tokens import TokenRepository
from services.store.users import UserRepository

if TYPE_CHECKING:
    from services.api.market import RenderedSentiment


@dataclass(frozen=True)
class ApiStore:
    """The repositories behind the routes: DynamoDB ones in AWS and on the local stack
    (`services.composition.api.dynamo_api_store`), in-memory ones in unit tests."""

    users: UserRepository
    sessions: SessionRepository
    tokens: TokenRepository
    configurations: ConfigurationRepository
    alerts: AlertRepository
    preferences: PreferenceRepository
    outbox: OutboxStore
    articles: ArticleRepository
    sentiment: SentimentStore
    ohlc_cache: OhlcCacheStore
    metrics: MetricsStore
    cache_counts: CacheCountsStore
    rate_windows: SharedWindows
    allowances: AllowanceStore
    circuits: CircuitStore
    quotas: QuotaStore
    entitlements: EntitlementStore
    ingestion_runs: IngestionRunRepository
    backfill: BackfillRepository
    census: TableCensus


@dataclass
class ApiDependencies:
    """Collaborators of the routes, and the process's caches: built from parts once per
    execution environment (`services.composition.api.api_dependencies`) and passed in. The
    services below are built from these parts on first use, and kept for the process."""

    settings: Settings
    store: ApiStore
    # Candles for the price routes (the Tiingo adapter in production).
    prices_source: CandleSource
    # Sign-in e-mails go out at once through it (SendGrid's client in production).
    email_sender: EmailSender
    chaos: ChaosSwitches
    # The OAuth provider's token endpoint and key set; None where none is configured.
    oidc: OidcClient | None
    # Circuit breakers and quotas of this instance's provider calls (prices, e-mail).
    guard: ResilientGuard
    # The plans' endpoints, less what a provider refused (read again once a minute).
    entitlements: Entitlements
    clock: Clock = field(default=utc_now)
    # Seconds since the epoch, as the rate limit's sliding windows count them.
    seconds: Callable[[], float] = time.time
    # The client whose calls the request traces time as spans (the table's; None in memory).
    traced_client: Any = None
    # Runs one ingestion cycle and returns its summary (the local stack runs it in-process).
    ingestion_runner: Callable[[], dict[str, Any]] | None = None
    # Counters only the runtime knows (e.g. the local topic's published/delivered/dead-lettered).
    pipeline_stats: Callable[[], dict[str, int]] | None = None
    # Runs the metrics function now and returns its snapshot (the local stack; in AWS the
    # schedule runs it).
    metrics_runner: Callable[[], dict[str, Any]] | None = None
    # The figures of the latest N analyzed articles against the emulated headlines' labels
    # (the local stack: the labelled headlines are not shipped to Lambda).
    live_accuracy: Callable[[int], dict[str, Any]] | None = None
    # The execution environments serving the API, when the runtime knows them (the local pool).
    execution_environments: Callable[[], list[dict[str, Any]]] | None = None
    model_card_path: Path = CARD_FILE

    @cached_property
    def caches(self) -> CacheRegistry:
        """Every cache layer of this instance; each registers itself where it is built."""
        registry = CacheRegistry()
        for layer in self.guard.cache_layers():
            registry.register(layer)
        return registry

    def cache_layers(self) -> CacheRegistry:
        """The registry with this API's own layers built (on first use otherwise; building
        them does no I/O), so a report lists each one before its first read."""
        _ = (
            self.accounts,
            self.configuration_lists,
            self.configuration_sentiment,
            self.prices,
            self.metrics_snapshots,
        )
        return self.caches

    @cached_property
    def model_card(self) -> ModelCardFile:
        """The model card, read on first use and kept for the process."""
        return ModelCardFile(self.model_card_path)

    @cached_property
    def rate_limiter(self) -> RateLimiter | None:
        """Per bearer token and per client address, counts shared with the other instances
        through the store; None when switched off (`RATE_LIMIT_ENABLED=false`)."""
        if not self.settings.rate_limit_enabled:
            return None
        return rate_limiter(self.settings, self.store.rate_windows, self.seconds)

    @cached_property
    def account_sign_in(self) -> AccountSignIn:
        """Signs in to the account of a proven address; both sign-in journeys share it."""
        store = self.store
        return AccountSignIn(
            store.users, store.sessions, store.configurations, self.settings, self.clock
        )

    @cached_property
    def oauth_sign_in(self) -> OAuthSignIn | None:
        """Sign-in with the configured OAuth provider; None where none is configured. The key
        cache lives as long as the process: the provider's keys are fetched once."""
        client = self.oidc
        if client is None:
            return None
        provider = client.provider
        verifier = IdTokenVerifier(provider, JwksCache(client.fetch_keys), self.clock)
        return OAuthSignIn(
            provider,
            self.store.tokens,
            client,
            verifier,
            self.account_sign_in,
            self.settings,
            self.clock,
        )

    @cached_property
    def universe(self) -> TickerUniverse:
        return TickerUniverse.load()

    @cached_property
    def configurations(self) -> ConfigurationService:
        return ConfigurationService(
            self.store.configurations, self.universe, self.settings, self.clock
        )

    @cached_property
    def configuration_lists(self) -> TtlCache[list[Configuration]]:
        """Each user's configuration list, 60 s, invalidated by every mutation."""
        ttl_s = self.settings.configuration_list_cache_ttl_s
        return self.caches.register(TtlCache("configuration_lists", ttl_s))

    @cached_property
    def accounts(self) -> TtlCache[User]:
        """Users by id, for authentication. The session itself is read on every request,
        strongly consistent (a revocation anywhere counts at once); only the account behind it
        is kept. A sign-in drops the entry here, and on other instances a session carries the
        profile version it was opened with, so an entry older than it is read again (see
        "Consistency" in docs/architecture.md)."""
        return self.caches.register(TtlCache("accounts", self.settings.account_cache_ttl_s))

    @cached_property
    def configuration_sentiment(self) -> TtlCache[RenderedSentiment]:
        """Each configuration's sentiment for 5 minutes, keyed by id and version, so an edited
        watchlist is never answered from its old entry. The rendered answer is kept: building
        it costs more than everything else a warm read does."""
        ttl_s = self.settings.configuration_sentiment_cache_ttl_s
        return self.caches.register(TtlCache("configuration_sentiment", ttl_s))

    @cached_property
    def allowances(self) -> Allowances:
        """Per-caller allowances (sign-in e-mails, price fetches), counted exactly in the
        store by every instance."""
        return Allowances(self.store.allowances, self.clock)

    @cached_property
    def sign_in_limits(self) -> SignInEmailLimits:
        return SignInEmailLimits.of(self.allowances, self.settings)

    @cached_property
    def price_fetch_limits(self) -> PriceFetchLimits:
        return PriceFetchLimits.of(self.allowances, self.settings)

    @cached_property
    def prices(self) -> PriceService:
        """Candles through the prices source, behind the in-memory and stored caches. A
        person is waiting for them, so they may use the quota's reserve (priority), within
        the API's share of Tiingo's quotas: ingestion keeps the rest."""
        service = PriceService(
            self.prices_source,
            self.store.ohlc_cache,
            self.clock,
            guard=self.guard,
            priority=True,
            share=PRICES_SHARE,
            memory_ttl_s={
                "daily": self.settings.ohlc_memory_ttl_daily_s,
                "intraday": self.settings.ohlc_memory_ttl_intraday_s,
            },
        )
        for layer in service.memory.values():
            self.caches.register(layer)
        return service

    @cached_property
    def instance(self) -> str:
        """This execution environment's id in the figures it shares (request minutes, cache
        counters) and in the ops routes' answers."""
        return uuid.uuid4().hex[:12]

    @cached_property
    def shared_caches(self) -> SharedCacheCounts:
        """This environment's cache counters, published to the store when due, and the
        report across every environment seen lately (`GET /api/v2/ops/caches`)."""
        local = self.settings.environment == "local"
        return SharedCacheCounts(
            self.caches,
            self.store.cache_counts,
            self.clock,
            instance=self.instance,
            pid=os.getpid() if local else None,
        )

    @cached_property
    def request_metrics(self) -> RequestMetrics:
        """This instance's request minutes (latency histogram, statuses, routes), written to
        the store with its cache counts every few seconds for the metrics function; each
        request also publishes the cache counters when they are due."""
        return RequestMetrics(
            instance=self.instance,
            sink=self.store.metrics,
            clock=self.clock,
            caches=lambda: cache_counts(self.caches.report()["layers"]),
            flush_interval=SHARED_FLUSH_INTERVAL,
            after_record=self.shared_caches.publish_if_due,
        )

    @cached_property
    def metrics_snapshots(self) -> TtlCache[dict[str, Any]]:
        """The metrics function's latest snapshot, read through for 60 s."""
        return self.caches.register(TtlCache("metrics", self.settings.metrics_cache_ttl_s))

    def forget_sign_in(self, signed: SignIn) -> None:
        """After a sign-in: both users' lists may have changed, and an upgraded anonymous
        user is an account now, so no cached copy of either may answer again."""
        for user_id in (signed.issued.user.user_id, signed.merge.from_user_id):
            if user_id:
                self.configuration_lists.invalidate(user_id)
                self.accounts.invalidate(user_id)
