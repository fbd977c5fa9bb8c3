"""What the sign-in journeys' unit tests share: a settable clock and anonymous callers."""

from __future__ import annotations

import uuid

from services.auth.sessions import Principal, authenticate, start_anonymous_session
from services.settings import Settings
from services.store.memory import (
    InMemoryConfigurationRepository,
    InMemorySessionRepository,
    InMemoryUserRepository,
)
from services.store.models import Configuration
from tests.clock import START, Clock

__all__ = ["START", "Clock", "anonymous_caller"]


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
