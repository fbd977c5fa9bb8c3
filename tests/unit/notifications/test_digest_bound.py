"""The daily digest reads a bounded number of accounts, and never an anonymous user."""

from __future__ import annotations

from typing import Any

import pytest

from services.notifications.digest import queue_digests
from services.settings import Settings
from services.store.memory import InMemoryConfigurationRepository, InMemoryUserRepository
from services.store.models import User
from services.store.preferences import EmailPreferences
from tests.unit.auth.support import Clock

pytestmark = pytest.mark.unit


class Everyone:
    def get(self, user_id: str) -> EmailPreferences:
        return EmailPreferences()


class NoOutbox:
    def enqueue(self, email: Any, *, with_operations: Any = ()) -> None:
        raise AssertionError("nobody here watches a ticker")


def test_the_digest_stops_at_its_cap_and_skips_anonymous_users() -> None:
    # Given three accounts and an anonymous user
    clock = Clock()
    users = InMemoryUserRepository()
    for n in range(3):
        users.create(User(f"a{n}", "email", clock(), email=f"r{n}@example.com"))
    users.create(User("guest", "anonymous", clock()))

    # When the digest runs with room for two accounts
    summary = queue_digests(
        accounts=users,
        configurations=InMemoryConfigurationRepository(users),
        preferences=Everyone(),
        sentiment=None,  # type: ignore[arg-type]  # no ticker is watched: never read
        outbox=NoOutbox(),
        settings=Settings(digest_max_accounts=2),
        clock=clock,
    )

    # Then it read two accounts, said it stopped at the cap, and never the anonymous user
    assert (summary.accounts, summary.no_tickers, summary.capped) == (2, 2, True)
