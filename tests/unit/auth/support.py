"""What the sign-in journeys' unit tests share: a settable clock and anonymous callers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.adapters.email import EmailSender
from services.auth.accounts import AccountSignIn
from services.auth.magic_link import MagicLinks
from services.auth.sessions import Principal, authenticate, start_anonymous_session
from services.auth.sign_in_limits import SignInEmailLimits
from services.settings import Settings
from services.store.memory import (
    InMemoryConfigurationRepository,
    InMemorySessionRepository,
    InMemoryTokenRepository,
    InMemoryUserRepository,
)
from services.store.models import Configuration
from tests.clock import START, Clock

__all__ = ["START", "Accounts", "Clock", "anonymous_caller", "in_memory_magic_links"]


@dataclass
class Accounts:
    """The repositories a sign-in journey writes, its clock and settings: a test's world
    extends it with the journey under test."""

    users: InMemoryUserRepository
    sessions: InMemorySessionRepository
    tokens: InMemoryTokenRepository
    configs: InMemoryConfigurationRepository
    clock: Clock
    settings: Settings

    def guest(self, configs: int = 0) -> Principal:
        """A new anonymous caller owning `configs` watchlists."""
        return anonymous_caller(
            self.users, self.sessions, self.configs, self.settings, self.clock, configs
        )


def anonymous_caller(
    users: InMemoryUserRepository,
    sessions: InMemorySessionRepository,
    configs: InMemoryConfigurationRepository,
    settings: Settings,
    clock: Clock,
    configurations: int = 0,
) -> Principal:
    """A fresh anonymous session owning `configurations` watchlists of AAPL."""
    issued = start_anonymous_session(users, sessions, settings, clock)
    for _ in range(configurations):
        configs.create(
            Configuration(
                config_id=str(uuid.uuid4()),
                user_id=issued.user.user_id,
                name="watch",
                tickers=("AAPL",),
                created_at=clock(),
                updated_at=clock(),
            ),
            max_allowed=settings.max_configs_anonymous,
        )
    return authenticate(issued.token, sessions, users, clock)


def in_memory_magic_links(
    sender: EmailSender,
    settings: Settings,
    clock: Clock,
    *,
    users: InMemoryUserRepository | None = None,
    limits: SignInEmailLimits | None = None,
) -> tuple[MagicLinks, InMemoryTokenRepository]:
    """Sign-in links e-mailed through `sender`, signing in to new in-memory accounts (over
    `users` when given): the links, and the repository of the tokens they issue."""
    users = users if users is not None else InMemoryUserRepository()
    configs = InMemoryConfigurationRepository(users)
    accounts = AccountSignIn(users, InMemorySessionRepository(), configs, settings, clock)
    tokens = InMemoryTokenRepository()
    return MagicLinks(tokens, sender, accounts, settings, clock, limits), tokens
