"""Retiring expired anonymous users, behind one fixture: the in-memory store (unit) and
DynamoDB Local (integration)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.auth.anonymous_cleanup import retire_expired_anonymous_users
from services.store.anonymous_users import DynamoAnonymousUserStore
from services.store.errors import NotFoundError
from services.store.models import Alert, Configuration, Session, User
from services.store.preferences import EmailPreferences
from services.store.sessions import DynamoSessionRepository
from tests.contracts.backends import ACCOUNT_STORES, BACKENDS, AccountStores, backend_stores

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(hours=1)


@dataclass
class Stores(AccountStores):
    sessions: Any
    anonymous_users: Any


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest) -> Stores:
    return backend_stores(
        request,
        Stores,
        **ACCOUNT_STORES,
        sessions=DynamoSessionRepository,
        anonymous_users=DynamoAnonymousUserStore,
    )


def a_guest(stores: Stores, user_id: str, expires_at: datetime = EXPIRES) -> User:
    user: User = stores.users.create(User(user_id, "anonymous", NOW, expires_at=expires_at))
    stores.sessions.create(
        Session(f"s-{user_id}", user_id, "anonymous", f"hash-{user_id}", NOW, expires_at)
    )
    return user


def a_watchlist(stores: Stores, user_id: str, ticker: str) -> Configuration:
    config = Configuration(f"c-{user_id}", user_id, "watch", (ticker,), NOW, NOW)
    created: Configuration = stores.configurations.create(config, max_allowed=2)
    return created


def a_rule(stores: Stores, config: Configuration, user_id: str) -> Alert:
    rule = Alert(
        f"a-{user_id}", user_id, config.config_id, config.tickers[0], "sentiment_threshold",
        "above", 0.5, True, NOW, NOW,
    )  # fmt: skip
    created: Alert = stores.alerts.put(rule, max_allowed=2)
    return created


def test_nothing_is_due_before_the_expiry(stores: Stores) -> None:
    a_guest(stores, "g1")

    assert stores.anonymous_users.due(EXPIRES, limit=10) == []
    (due,) = stores.anonymous_users.due(EXPIRES + timedelta(seconds=1), limit=10)
    assert due.user_id == "g1"


def test_a_retired_guest_takes_what_it_owns_and_leaves_the_others(stores: Stores) -> None:
    a_guest(stores, "g1")
    mine = a_watchlist(stores, "g1", "AAPL")
    a_rule(stores, mine, "g1")
    stores.preferences.update("g1", NOW, alert_emails=False)
    stores.users.create(User("acct", "email", NOW, email="a@b.co"))
    theirs = a_watchlist(stores, "acct", "MSFT")
    assert stores.configurations.tracked_tickers() == ["AAPL", "MSFT"]

    later = EXPIRES + timedelta(seconds=1)
    summary = retire_expired_anonymous_users(stores.anonymous_users, lambda: later, limit=10)

    assert (summary.due, summary.retired, summary.kept) == (1, 1, 0)
    with pytest.raises(NotFoundError):
        stores.users.get("g1")
    assert stores.configurations.list_for_user("g1") == []
    assert stores.alerts.list_for_config(mine.config_id) == []
    assert stores.preferences.get("g1") == EmailPreferences()
    assert stores.sessions.list_for_user("g1", NOW) == []
    assert stores.configurations.tracked_tickers() == ["MSFT"]
    assert stores.configurations.list_for_user("acct") == [theirs]
    # And the next run finds nothing left to do
    assert retire_expired_anonymous_users(stores.anonymous_users, lambda: later, limit=10).due == 0


def test_a_guest_who_signed_in_is_never_due(stores: Stores) -> None:
    guest = a_guest(stores, "g1")
    stores.users.upgrade(guest, auth_type="email", email="reader@example.com")

    assert stores.anonymous_users.due(EXPIRES + timedelta(days=1), limit=10) == []
    assert stores.users.get("g1").email == "reader@example.com"


def test_the_oldest_are_retired_first_a_batch_at_a_time(stores: Stores) -> None:
    for n in (3, 1, 2):
        a_guest(stores, f"g{n}", EXPIRES + timedelta(minutes=n))
    later = EXPIRES + timedelta(hours=1)

    due = stores.anonymous_users.due(later, limit=2)

    assert [d.user_id for d in due] == ["g1", "g2"]
    assert (
        retire_expired_anonymous_users(stores.anonymous_users, lambda: later, limit=2).retired == 2
    )
    assert [d.user_id for d in stores.anonymous_users.due(later, limit=2)] == ["g3"]
