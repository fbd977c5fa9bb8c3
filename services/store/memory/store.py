"""Every in-memory repository over one shared state, as the DynamoDB ones share one table."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.clock import Clock, utc_now
from services.store.backfill import InMemoryBackfillRepository
from services.store.memory.accounts import (
    InMemoryConfigurationRepository,
    InMemorySessionRepository,
    InMemoryTokenRepository,
    InMemoryUserRepository,
)
from services.store.memory.anonymous_users import InMemoryAnonymousUserStore
from services.store.memory.articles import InMemoryArticleRepository, InMemorySentimentStore
from services.store.memory.census import InMemoryTableCensus
from services.store.memory.notifications import (
    InMemoryAlertRepository,
    InMemoryOutbox,
    InMemoryPreferenceRepository,
)
from services.store.memory.records import (
    InMemoryCacheCounts,
    InMemoryDeadLetterRepository,
    InMemoryIngestionRunRepository,
    InMemoryMetricsStore,
    InMemoryOhlcCache,
)
from services.store.memory.resilience import (
    InMemoryAllowanceStore,
    InMemoryCircuitStore,
    InMemoryEntitlementStore,
    InMemoryQuotaStore,
    InMemoryRateWindows,
)


@dataclass(frozen=True)
class MemoryStore:
    """Built by `MemoryStore.empty()`: repositories that read each other's writes where the
    table's items are shared (a configuration counts against its user, an alert e-mail
    fires its rule, a retired user takes what it owns)."""

    users: InMemoryUserRepository
    sessions: InMemorySessionRepository
    tokens: InMemoryTokenRepository
    configurations: InMemoryConfigurationRepository
    alerts: InMemoryAlertRepository
    preferences: InMemoryPreferenceRepository
    outbox: InMemoryOutbox
    articles: InMemoryArticleRepository
    sentiment: InMemorySentimentStore
    ohlc_cache: InMemoryOhlcCache
    metrics: InMemoryMetricsStore
    cache_counts: InMemoryCacheCounts
    rate_windows: InMemoryRateWindows
    allowances: InMemoryAllowanceStore
    circuits: InMemoryCircuitStore
    quotas: InMemoryQuotaStore
    entitlements: InMemoryEntitlementStore
    ingestion_runs: InMemoryIngestionRunRepository
    backfill: InMemoryBackfillRepository
    anonymous_users: InMemoryAnonymousUserStore
    dead_letters: InMemoryDeadLetterRepository
    census: InMemoryTableCensus = field(init=False)

    def __post_init__(self) -> None:
        # The census reads every other repository, so it is made from the finished store.
        object.__setattr__(self, "census", InMemoryTableCensus(self))

    @classmethod
    def empty(
        cls, clock: Clock = utc_now, *, users: InMemoryUserRepository | None = None
    ) -> MemoryStore:
        """A new, empty store; `clock` decides which articles have expired. `users` (empty)
        stands in for the user repository, for a test that watches its reads."""
        users = users if users is not None else InMemoryUserRepository()
        sessions = InMemorySessionRepository()
        configurations = InMemoryConfigurationRepository(users)
        alerts = InMemoryAlertRepository(users)
        preferences = InMemoryPreferenceRepository()
        articles = InMemoryArticleRepository(clock)
        return cls(
            users=users,
            sessions=sessions,
            tokens=InMemoryTokenRepository(),
            configurations=configurations,
            alerts=alerts,
            preferences=preferences,
            outbox=InMemoryOutbox(alerts),
            articles=articles,
            sentiment=InMemorySentimentStore(articles),
            ohlc_cache=InMemoryOhlcCache(),
            metrics=InMemoryMetricsStore(),
            cache_counts=InMemoryCacheCounts(),
            rate_windows=InMemoryRateWindows(),
            allowances=InMemoryAllowanceStore(),
            circuits=InMemoryCircuitStore(),
            quotas=InMemoryQuotaStore(),
            entitlements=InMemoryEntitlementStore(),
            ingestion_runs=InMemoryIngestionRunRepository(),
            backfill=InMemoryBackfillRepository(),
            anonymous_users=InMemoryAnonymousUserStore(
                configurations, sessions, alerts, preferences
            ),
            dead_letters=InMemoryDeadLetterRepository(),
        )
