"""What the API's routes depend on, built once per process and passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from services.auth.accounts import AccountSignIn
from services.caching.ttl import TtlCache
from services.clock import Clock, utc_now
from services.configurations.manage import ConfigurationService
from services.market.universe import TickerUniverse
from services.settings import Settings
from services.store.configurations import DynamoConfigurationRepository
from services.store.models import Configuration
from services.store.sessions import DynamoSessionRepository
from services.store.table import dynamodb_table
from services.store.users import DynamoUserRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass
class ApiDependencies:
    """Collaborators of the routes. Tests pass their own; the handler builds the defaults."""

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
