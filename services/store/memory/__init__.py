"""In-memory versions of every repository, for fast unit tests of domain logic and of the API.

They keep the same contracts as the DynamoDB repositories (conditional writes, limits, soft
delete, single use, expiry), which `tests/contracts` checks against both. `MemoryStore.empty()`
builds them all over one shared state, as the DynamoDB ones share one table.
"""

from services.store.backfill import InMemoryBackfillRepository
from services.store.memory.accounts import (
    InMemoryConfigurationRepository,
    InMemorySessionRepository,
    InMemoryTokenRepository,
    InMemoryUserRepository,
)
from services.store.memory.anonymous_users import InMemoryAnonymousUserStore
from services.store.memory.articles import InMemoryArticleRepository, InMemorySentimentStore
from services.store.memory.census import InMemoryTableCensus, StoreUnavailableError
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
from services.store.memory.store import MemoryStore

__all__ = [
    "InMemoryAlertRepository",
    "InMemoryAllowanceStore",
    "InMemoryAnonymousUserStore",
    "InMemoryArticleRepository",
    "InMemoryBackfillRepository",
    "InMemoryCacheCounts",
    "InMemoryCircuitStore",
    "InMemoryConfigurationRepository",
    "InMemoryDeadLetterRepository",
    "InMemoryEntitlementStore",
    "InMemoryIngestionRunRepository",
    "InMemoryMetricsStore",
    "InMemoryOhlcCache",
    "InMemoryOutbox",
    "InMemoryPreferenceRepository",
    "InMemoryQuotaStore",
    "InMemoryRateWindows",
    "InMemorySentimentStore",
    "InMemorySessionRepository",
    "InMemoryTableCensus",
    "InMemoryTokenRepository",
    "InMemoryUserRepository",
    "MemoryStore",
    "StoreUnavailableError",
]
