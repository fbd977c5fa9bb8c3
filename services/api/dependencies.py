"""What the API's routes depend on, built once per process and passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from services.auth.accounts import AccountSignIn, SignIn
from services.auth.sessions import Principal
from services.caching.ttl import TtlCache
from services.clock import Clock, utc_now
from services.composition import tiingo_adapter
from services.configurations.manage import ConfigurationService
from services.market.prices import PriceService
from services.market.universe import TickerUniverse
from services.settings import Settings
from services.store.configurations import DynamoConfigurationRepository
from services.store.models import Configuration
from services.store.ohlc_cache import DynamoOhlcCache
from services.store.sentiment import DynamoSentimentStore
from services.store.sessions import DynamoSessionRepository
from services.store.table import dynamodb_table
from services.store.users import DynamoUserRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from services.api.market import ConfigurationSentimentOut


SENTIMENT_TTL_S = 300.0


@dataclass
class ApiDependencies:
    """Collaborators of the routes, and the process's caches: built once per execution
    environment and passed in. Tests pass their own; the handler builds the defaults."""

    settings: Settings
    clock: Clock = field(default=utc_now)
    table_override: Table | None = None
    # Runs one ingestion cycle and returns its summary (the local stack runs it in-process).
    ingestion_runner: Callable[[], dict[str, Any]] | None = None
    # Counters only the runtime knows (e.g. the local topic's published/delivered/dead-lettered).
    pipeline_stats: Callable[[], dict[str, int]] | None = None

    @cached_property
    def table(self) -> Table:
        # Built on first use, never at import time, so importing the handler is cheap.
        return self.table_override or dynamodb_table(self.settings)

    @cached_property
    def users(self) -> DynamoUserRepository:
        return DynamoUserRepository(self.table)

    @cached_property
    def sessions(self) -> DynamoSessionRepository:
        return DynamoSessionRepository(self.table)

    @cached_property
    def account_sign_in(self) -> AccountSignIn:
        """Signs in to the account of a proven address; both sign-in journeys share it."""
        return AccountSignIn(
            self.users,
            self.sessions,
            DynamoConfigurationRepository(self.table),
            self.settings,
            self.clock,
        )

    @cached_property
    def universe(self) -> TickerUniverse:
        return TickerUniverse.load()

    @cached_property
    def configurations(self) -> ConfigurationService:
        return ConfigurationService(
            DynamoConfigurationRepository(self.table), self.universe, self.settings, self.clock
        )

    @cached_property
    def configuration_lists(self) -> TtlCache[list[Configuration]]:
        """Each user's configuration list, 60 s, invalidated by every mutation."""
        return TtlCache("configuration_lists", 60.0)

    @cached_property
    def principals(self) -> TtlCache[Principal]:
        """Authenticated callers by token hash. Signing out (or converting an anonymous
        session) drops the entry at once; another instance notices within the TTL, as behind
        a gateway authorizer's cache."""
        return TtlCache("sessions", self.settings.session_cache_ttl_s)

    @cached_property
    def configuration_sentiment(self) -> TtlCache[ConfigurationSentimentOut]:
        """Each configuration's sentiment for 5 minutes, keyed by id and version, so an edited
        watchlist is never answered from its old entry. The rendered answer is kept: building
        it costs more than everything else a warm read does."""
        return TtlCache("configuration_sentiment", SENTIMENT_TTL_S)

    @cached_property
    def sentiment_store(self) -> DynamoSentimentStore:
        return DynamoSentimentStore(self.table)

    @cached_property
    def prices(self) -> PriceService:
        """Candles through the Tiingo adapter, behind the in-memory and table caches."""
        return PriceService(tiingo_adapter(self.settings), DynamoOhlcCache(self.table), self.clock)

    def forget_sign_in(self, signed: SignIn) -> None:
        """After a sign-in: both users' lists may have changed, and a converted anonymous
        session is revoked, so none of their cached copies may answer again."""
        self.configuration_lists.invalidate(signed.issued.user.user_id)
        if signed.merge.from_user_id:
            gone = signed.merge.from_user_id
            self.configuration_lists.invalidate(gone)
            self.principals.invalidate_where(lambda principal: principal.user.user_id == gone)
