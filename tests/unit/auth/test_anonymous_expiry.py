"""Anonymous users expire: a TTL a grace period after their session, removed by a sign-in; the
cleanup retires them (configurations, alert rules, watcher counts); the digest reads the
accounts directory, never the whole table. Over a moto table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from services.auth.accounts import AccountSignIn
from services.auth.anonymous_cleanup import retire_expired_anonymous_users
from services.auth.sessions import authenticate, start_anonymous_session
from services.clock import epoch_seconds
from services.composition.notification import notification_dependencies
from services.functions import notification
from services.resilience.guard import AllowAll
from services.settings import Settings
from services.store import keys
from services.store.alerts import DynamoAlertRepository
from services.store.anonymous_users import DynamoAnonymousUserStore
from services.store.configurations import DynamoConfigurationRepository
from services.store.models import Alert, Configuration
from services.store.sessions import DynamoSessionRepository
from services.store.users import DynamoUserRepository
from tests.unit.auth.support import Clock

SESSION_S = 3600
GRACE_S = 600
SETTINGS = Settings(anonymous_session_ttl_s=SESSION_S, anonymous_user_grace_s=GRACE_S)


@pytest.fixture(
    params=[
        pytest.param("moto", marks=pytest.mark.unit),
        pytest.param("dynamodb_local", marks=pytest.mark.integration),
    ]
)
def table(request: pytest.FixtureRequest) -> Any:
    """A moto table (unit), and the same tests on DynamoDB Local (integration)."""
    if request.param == "dynamodb_local":
        return request.getfixturevalue("fresh_table")
    return request.getfixturevalue("moto_table")


@pytest.fixture
def clock() -> Clock:
    return Clock()


def profile(table: Any, user_id: str) -> dict[str, Any] | None:
    return table.get_item(Key=keys.user_profile(user_id)).get("Item")


def partition(table: Any, pk: str) -> list[dict[str, Any]]:
    return table.query(KeyConditionExpression=Key("PK").eq(pk))["Items"]


def sign_in(table: Any, clock: Clock) -> AccountSignIn:
    return AccountSignIn(
        DynamoUserRepository(table),
        DynamoSessionRepository(table),
        DynamoConfigurationRepository(table),
        SETTINGS,
        clock,
    )


def watchlist(table: Any, user_id: str, clock: Clock, ticker: str = "AAPL") -> Configuration:
    config = Configuration(
        config_id=f"c-{user_id[:8]}",
        user_id=user_id,
        name="watch",
        tickers=(ticker,),
        created_at=clock(),
        updated_at=clock(),
    )
    return DynamoConfigurationRepository(table).create(config, max_allowed=1)


def rule(table: Any, config: Configuration, clock: Clock) -> Alert:
    alert = Alert(
        alert_id="a1",
        user_id=config.user_id,
        config_id=config.config_id,
        ticker=config.tickers[0],
        alert_type="sentiment_threshold",
        direction="above",
        threshold=0.5,
        enabled=True,
        created_at=clock(),
        updated_at=clock(),
    )
    return DynamoAlertRepository(table).put(alert, max_allowed=2)


def test_anonymous_user_expires_a_grace_period_after_its_session(table, clock) -> None:
    # Given a new anonymous session
    issued = start_anonymous_session(
        DynamoUserRepository(table), DynamoSessionRepository(table), SETTINGS, clock
    )

    # Then its user carries the table's TTL: the session's expiry plus the grace period
    stored = profile(table, issued.user.user_id)
    assert stored is not None
    expected = issued.session.expires_at + timedelta(seconds=GRACE_S)
    assert int(stored["expires_at"]) == epoch_seconds(expected)
    assert issued.session.expires_at == clock() + timedelta(seconds=SESSION_S)
    # And the cleanup will find it when that time comes
    (entry,) = partition(table, keys.ANONYMOUS_EXPIRY)
    assert entry["user_id"] == issued.user.user_id


def test_signing_in_removes_the_expiry_and_lists_the_account(table, clock) -> None:
    # Given an anonymous caller
    users, sessions = DynamoUserRepository(table), DynamoSessionRepository(table)
    issued = start_anonymous_session(users, sessions, SETTINGS, clock)
    guest = authenticate(issued.token, sessions, users, clock)

    # When it signs in with an address nobody has
    signed = sign_in(table, clock).sign_in("reader@example.com", "email", guest)

    # Then the user is upgraded in place and never expires
    assert signed.merge.mode == "upgraded"
    stored = profile(table, issued.user.user_id)
    assert stored is not None and "expires_at" not in stored
    assert users.get(issued.user.user_id).expires_at is None
    assert partition(table, keys.ANONYMOUS_EXPIRY) == []
    # And it is in the accounts directory the digest reads
    assert [u.user_id for u in users.list_accounts(limit=10)] == [issued.user.user_id]


def test_cleanup_retires_an_expired_anonymous_user_and_what_it_owns(table, clock) -> None:
    # Given an anonymous user with a watchlist on AAPL and an alert rule on it
    users, configs = DynamoUserRepository(table), DynamoConfigurationRepository(table)
    issued = start_anonymous_session(users, DynamoSessionRepository(table), SETTINGS, clock)
    config = watchlist(table, issued.user.user_id, clock)
    rule(table, config, clock)
    assert configs.tracked_tickers() == ["AAPL"]
    store = DynamoAnonymousUserStore(table)

    # When the cleanup runs before the grace period is over, Then nothing is due
    clock.now += timedelta(seconds=SESSION_S + GRACE_S - 1)
    assert retire_expired_anonymous_users(store, clock, limit=10).due == 0

    # When it runs after
    clock.now += timedelta(seconds=2)
    summary = retire_expired_anonymous_users(store, clock, limit=10)

    # Then the user, its configuration and its rule are gone, and AAPL is no longer tracked
    assert (summary.due, summary.retired, summary.kept) == (1, 1, 0)
    assert partition(table, keys.user_pk(issued.user.user_id)) == []
    assert partition(table, f"CONFIG#{config.config_id}") == []
    assert configs.tracked_tickers() == []
    assert partition(table, keys.ANONYMOUS_EXPIRY) == []
    # And a second run finds nothing left to do
    assert retire_expired_anonymous_users(store, clock, limit=10).due == 0


def test_cleanup_keeps_a_user_who_signed_in(table, clock) -> None:
    # Given an anonymous user whose expiry entry outlived its upgrade (written before it)
    users, sessions = DynamoUserRepository(table), DynamoSessionRepository(table)
    issued = start_anonymous_session(users, sessions, SETTINGS, clock)
    (entry,) = partition(table, keys.ANONYMOUS_EXPIRY)
    guest = authenticate(issued.token, sessions, users, clock)
    sign_in(table, clock).sign_in("reader@example.com", "email", guest)
    table.put_item(Item=entry)

    # When the cleanup finds the stale entry
    clock.now += timedelta(seconds=SESSION_S + GRACE_S + 1)
    summary = retire_expired_anonymous_users(DynamoAnonymousUserStore(table), clock, limit=10)

    # Then the account stays; only the entry goes
    assert (summary.retired, summary.kept) == (0, 1)
    assert users.get(issued.user.user_id).email == "reader@example.com"
    assert partition(table, keys.ANONYMOUS_EXPIRY) == []


def test_cleanup_retires_at_most_a_batch_per_run(table, clock) -> None:
    users, sessions = DynamoUserRepository(table), DynamoSessionRepository(table)
    for _ in range(3):
        start_anonymous_session(users, sessions, SETTINGS, clock)
    clock.now += timedelta(seconds=SESSION_S + GRACE_S + 1)
    store = DynamoAnonymousUserStore(table)

    assert retire_expired_anonymous_users(store, clock, limit=2).retired == 2
    assert retire_expired_anonymous_users(store, clock, limit=2).retired == 1


class NoScans:
    """The table, refusing scans: the digest's reads must be bounded queries."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def scan(self, **_: Any) -> Any:
        raise AssertionError("the digest scanned the table")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def test_digest_lists_accounts_without_scanning_and_within_its_cap(table, clock) -> None:
    # Given anonymous users and three accounts
    users, sessions = DynamoUserRepository(table), DynamoSessionRepository(table)
    for _ in range(4):
        start_anonymous_session(users, sessions, SETTINGS, clock)
    accounts = sign_in(table, clock)
    made = {accounts.sign_in(f"r{n}@example.com", "email", None).issued.user for n in range(3)}

    # When the accounts are listed through a table that refuses scans
    listing = DynamoUserRepository(NoScans(table))  # type: ignore[arg-type]

    # Then only the accounts come back, at most as many as asked
    assert {u.user_id for u in listing.list_accounts(limit=10)} == {u.user_id for u in made}
    assert len(listing.list_accounts(limit=2)) == 2


def test_profiles_are_read_strongly_consistently(table, clock) -> None:
    # A re-read after an upgrade elsewhere must not come from a lagging replica.
    calls: list[dict[str, Any]] = []

    class Recording(NoScans):
        def get_item(self, **kwargs: Any) -> Any:
            calls.append(kwargs)
            return table.get_item(**kwargs)

    issued = start_anonymous_session(
        DynamoUserRepository(table), DynamoSessionRepository(table), SETTINGS, clock
    )
    DynamoUserRepository(Recording(table)).get(issued.user.user_id)  # type: ignore[arg-type]
    DynamoSessionRepository(Recording(table)).find_by_token_hash(  # type: ignore[arg-type]
        issued.session.token_hash, clock()
    )
    assert [c.get("ConsistentRead") for c in calls] == [True, True]


def test_a_session_records_the_account_version_it_was_opened_with(table, clock) -> None:
    users, sessions = DynamoUserRepository(table), DynamoSessionRepository(table)
    issued = start_anonymous_session(users, sessions, SETTINGS, clock)
    guest = authenticate(issued.token, sessions, users, clock)
    signed = sign_in(table, clock).sign_in("reader@example.com", "email", guest)

    stored = sessions.find_by_token_hash(signed.issued.session.token_hash, clock())
    assert stored is not None and stored.account_version == 2
    assert guest.session.account_version == 1


def test_the_notification_function_retires_due_anonymous_users(table, clock) -> None:
    # Given an anonymous user past its expiry
    issued = start_anonymous_session(
        DynamoUserRepository(table), DynamoSessionRepository(table), SETTINGS, clock
    )
    clock.now += timedelta(seconds=SESSION_S + GRACE_S + 1)

    # When the notification function runs (its every-minute schedule)
    deps = notification_dependencies(SETTINGS, table, AllowAll(), clock=clock)
    result = notification.handler({}, None, deps)

    # Then the user is gone, and the run says so
    assert result["anonymous_cleanup"] == {"due": 1, "retired": 1, "kept": 0}
    assert profile(table, issued.user.user_id) is None
