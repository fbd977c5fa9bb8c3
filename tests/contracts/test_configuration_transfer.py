"""Moving a configuration to another user (anonymous data joining an account), checked
against both the in-memory fake and DynamoDB Local."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.store.errors import ConflictError, LimitReachedError, NotFoundError
from services.store.models import Configuration, User

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def a_config(config_id: str, user_id: str) -> Configuration:
    return Configuration(
        config_id=config_id,
        user_id=user_id,
        name="Watchlist",
        tickers=("AAPL", "MSFT"),
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
def two_users(repos):
    repos.users.create(User(user_id="guest", auth_type="anonymous", created_at=NOW))
    repos.users.create(User(user_id="acct", auth_type="email", created_at=NOW, email="a@b.co"))
    return repos


def test_transfer_moves_the_configuration_and_both_counts(two_users) -> None:
    repos = two_users
    config = repos.configs.create(a_config("c1", "guest"), max_allowed=1)

    moved = repos.configs.transfer(config, "acct", max_allowed=2, now=LATER)

    assert (moved.user_id, moved.config_id, moved.updated_at) == ("acct", "c1", LATER)
    assert [c.config_id for c in repos.configs.list_for_user("acct")] == ["c1"]
    assert repos.configs.list_for_user("guest") == []
    with pytest.raises(NotFoundError):
        repos.configs.get("guest", "c1")
    assert repos.users.get("acct").config_count == 1
    assert repos.users.get("guest").config_count == 0
    # One live configuration replaced another: the ticker stays tracked.
    assert repos.configs.tracked_tickers() == ["AAPL", "MSFT"]


def test_transfer_stops_at_the_target_limit_and_changes_nothing(two_users) -> None:
    repos = two_users
    repos.configs.create(a_config("mine", "acct"), max_allowed=1)
    config = repos.configs.create(a_config("c1", "guest"), max_allowed=1)

    with pytest.raises(LimitReachedError):
        repos.configs.transfer(config, "acct", max_allowed=1, now=LATER)

    assert [c.config_id for c in repos.configs.list_for_user("guest")] == ["c1"]
    assert [c.config_id for c in repos.configs.list_for_user("acct")] == ["mine"]
    assert repos.users.get("acct").config_count == 1
    assert repos.users.get("guest").config_count == 1


def test_transfer_of_a_stale_or_moved_configuration_conflicts(two_users) -> None:
    repos = two_users
    config = repos.configs.create(a_config("c1", "guest"), max_allowed=1)
    repos.configs.transfer(config, "acct", max_allowed=2, now=LATER)

    with pytest.raises(ConflictError):
        repos.configs.transfer(config, "acct", max_allowed=2, now=LATER)

    assert repos.users.get("acct").config_count == 1
