"""Alert rules, e-mail preferences and the outbox behind one fixture: the in-memory ones
(unit) and DynamoDB Local (integration), so the unit tests that run the API and the
notification functions over memory hold for the table."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notifications.alert_mail import AlertMailer
from services.settings import Settings
from services.store.alerts import daily_email_operation
from services.store.errors import LimitReachedError, NotFoundError
from services.store.models import Alert, AuthType, Configuration, User
from services.store.outbox import (
    DuplicateEmailError,
    DynamoOutbox,
    OutboxConditionError,
)
from services.store.preferences import EmailPreferences
from tests.contracts.backends import ACCOUNT_STORES, BACKENDS, AccountStores, backend_stores
from tests.emails import alert_email

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


@dataclass
class Stores(AccountStores):
    outbox: Any


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest) -> Stores:
    return backend_stores(request, Stores, **ACCOUNT_STORES, outbox=DynamoOutbox)


def a_user(stores: Stores, user_id: str = "u1", email: str | None = "jane@example.com") -> User:
    auth: AuthType = "email" if email else "anonymous"
    created: User = stores.users.create(User(user_id, auth, NOW, email=email))
    return created


def a_config(stores: Stores, user_id: str = "u1", config_id: str = "c1") -> Configuration:
    config = Configuration(config_id, user_id, "Tech", ("AAPL", "MSFT"), NOW, NOW)
    created: Configuration = stores.configurations.create(config, max_allowed=5)
    return created


def a_rule(
    alert_id: str = "a1", *, user_id: str = "u1", config_id: str = "c1", **changes: Any
) -> Alert:
    rule = Alert(
        alert_id, user_id, config_id, "AAPL", "sentiment_threshold", "below", -0.2, True,
        NOW, NOW,
    )  # fmt: skip
    return replace(rule, **changes)


# --- alert rules ----------------------------------------------------------------------------


def test_rules_count_against_their_users_limit_and_a_delete_frees_a_slot(stores: Stores) -> None:
    a_user(stores)
    first = stores.alerts.put(a_rule("a1"), max_allowed=2)
    stores.alerts.put(a_rule("a2"), max_allowed=2)
    with pytest.raises(LimitReachedError):
        stores.alerts.put(a_rule("a3"), max_allowed=2)

    stores.alerts.delete(first)

    stores.alerts.put(a_rule("a3"), max_allowed=2)
    with pytest.raises(NotFoundError):
        stores.alerts.delete(first)


def test_a_rule_of_an_unknown_user_or_a_taken_id_is_refused(stores: Stores) -> None:
    with pytest.raises(LimitReachedError):
        stores.alerts.put(a_rule(user_id="nobody"), max_allowed=5)
    a_user(stores)
    stores.alerts.put(a_rule(), max_allowed=5)
    with pytest.raises(LimitReachedError):
        stores.alerts.put(a_rule(), max_allowed=5)


def test_rules_are_private_to_their_user_and_listed_oldest_first(stores: Stores) -> None:
    a_user(stores)
    a_user(stores, "u2", "joe@example.com")
    later = NOW + timedelta(minutes=1)
    stores.alerts.put(a_rule("late", created_at=later), max_allowed=5)
    stores.alerts.put(a_rule("early"), max_allowed=5)
    between = NOW + timedelta(seconds=30)
    stores.alerts.put(
        a_rule("other", user_id="u2", config_id="c2", created_at=between), max_allowed=5
    )

    assert stores.alerts.get("u1", "c1", "early").alert_id == "early"
    with pytest.raises(NotFoundError):
        stores.alerts.get("u2", "c1", "early")
    assert [a.alert_id for a in stores.alerts.list_for_config("c1")] == ["early", "late"]
    assert [a.alert_id for a in stores.alerts.list_for_ticker("AAPL")] == [
        "early",
        "other",
        "late",
    ]
    assert stores.alerts.list_for_ticker("MSFT") == []


def test_a_replace_needs_the_rule_and_its_owner(stores: Stores) -> None:
    a_user(stores)
    rule = stores.alerts.put(a_rule(), max_allowed=5)

    stores.alerts.replace(replace(rule, threshold=-0.5))

    assert stores.alerts.get("u1", "c1", "a1").threshold == -0.5
    with pytest.raises(NotFoundError):
        stores.alerts.replace(replace(rule, user_id="u2"))
    with pytest.raises(NotFoundError):
        stores.alerts.replace(replace(rule, alert_id="missing"))


def test_rearm_clears_only_a_breach(stores: Stores) -> None:
    a_user(stores)
    rule = stores.alerts.put(a_rule(in_breach=True, last_triggered_at=NOW), max_allowed=5)

    stores.alerts.rearm(rule)
    stores.alerts.rearm(rule)  # armed already: nothing to do

    stored = stores.alerts.get("u1", "c1", "a1")
    assert (stored.in_breach, stored.last_triggered_at) == (False, NOW)


# --- preferences ----------------------------------------------------------------------------


def test_preferences_default_on_and_an_update_keeps_what_it_does_not_name(stores: Stores) -> None:
    assert stores.preferences.get("u1") == EmailPreferences(True, True)

    assert stores.preferences.update("u1", NOW, alert_emails=False) == EmailPreferences(False, True)
    assert stores.preferences.update("u1", NOW, digest_emails=False) == EmailPreferences(
        False, False
    )
    assert stores.preferences.update("u1", NOW) == EmailPreferences(False, False)
    assert stores.preferences.get("u1") == EmailPreferences(False, False)


# --- the outbox -----------------------------------------------------------------------------


def test_an_idempotency_key_stores_one_email(stores: Stores) -> None:
    first = alert_email("alert:1", NOW)
    stores.outbox.enqueue(first)

    with pytest.raises(DuplicateEmailError):
        stores.outbox.enqueue(replace(first, subject="changed"))

    stored = stores.outbox.get(first.email_id)
    assert stored == first
    assert stores.outbox.get("absent") is None


def test_a_failed_condition_of_another_operation_writes_nothing(stores: Stores) -> None:
    limit = daily_email_operation("u1", NOW.date(), 1, timedelta(days=2))
    stores.outbox.enqueue(alert_email("alert:1", NOW), with_operations=[limit])

    with pytest.raises(OutboxConditionError) as refused:
        stores.outbox.enqueue(alert_email("alert:2", NOW), with_operations=[limit])

    assert refused.value.index == 0
    assert stores.outbox.get(alert_email("alert:2", NOW).email_id) is None
    assert stores.alerts.emails_sent("u1", NOW.date()) == 1
    assert stores.alerts.emails_sent("u1", (NOW + timedelta(days=1)).date()) == 0


def test_a_duplicate_is_told_before_any_other_failed_condition(stores: Stores) -> None:
    limit = daily_email_operation("u1", NOW.date(), 1, timedelta(days=2))
    stores.outbox.enqueue(alert_email("alert:1", NOW), with_operations=[limit])

    with pytest.raises(DuplicateEmailError):
        stores.outbox.enqueue(alert_email("alert:1", NOW), with_operations=[limit])


def test_due_lists_what_is_due_and_a_claim_is_won_once(stores: Stores) -> None:
    stores.outbox.enqueue(alert_email("now", NOW))
    stores.outbox.enqueue(alert_email("later", NOW, delay_s=3600))

    due = stores.outbox.due(NOW)
    assert [e.idempotency_key for e in due] == ["now"]
    claimed = stores.outbox.claim(due[0], NOW, LEASE)
    assert claimed is not None and claimed.attempts == 1
    assert stores.outbox.claim(due[0], NOW, LEASE) is None  # the second sender loses
    assert stores.outbox.due(NOW) == []
    # ... until the claim runs out
    assert [e.idempotency_key for e in stores.outbox.due(NOW + LEASE)] == ["now"]


def test_priority_emails_come_first_then_the_longest_due(stores: Stores) -> None:
    for n in range(3):
        stores.outbox.enqueue(alert_email(f"plain:{n}", NOW, delay_s=-10 + n))
    stores.outbox.enqueue(replace(alert_email("urgent", NOW), priority=True))

    due = stores.outbox.due(NOW)

    assert [e.idempotency_key for e in due] == ["urgent", "plain:0", "plain:1", "plain:2"]
    assert len(stores.outbox.due(NOW, limit=2)) == 2


def test_an_acceptance_is_kept_from_a_stale_copy(stores: Stores) -> None:
    queued = alert_email("accepted", NOW)
    stores.outbox.enqueue(queued)
    claimed = stores.outbox.claim(queued, NOW, LEASE)
    assert claimed is not None

    accepted = stores.outbox.record_acceptance(claimed, "sg-1", NOW)

    assert accepted is not None and accepted.provider_message_id == "sg-1"
    # A settle from the copy read before the acceptance is refused ...
    assert not stores.outbox.settle(claimed, replace(claimed, state="queued"))
    # ... one from the copy that has it goes through
    sent = replace(accepted, state="sent", sent_at=NOW)
    assert stores.outbox.settle(accepted, sent)
    stored = stores.outbox.get(queued.email_id)
    assert (stored.state, stored.provider_message_id) == ("sent", "sg-1")
    # And a lost claim records nothing
    assert stores.outbox.record_acceptance(claimed, "sg-2", NOW) is None


def test_history_and_counts(stores: Stores) -> None:
    stores.outbox.enqueue(alert_email("a", NOW))
    stores.outbox.enqueue(replace(alert_email("b", NOW), state="in_app", to=None, sent_at=NOW))
    stores.outbox.enqueue(alert_email("c", NOW, user_id="someone else"))
    stores.outbox.enqueue(alert_email("d", NOW, user_id=None))

    mine = stores.outbox.list_for_user("u1")

    assert {e.idempotency_key for e in mine} == {"a", "b"}
    assert len(stores.outbox.list_for_user("u1", limit=1)) == 1
    counts = stores.outbox.count_by_state()
    assert counts == {
        "queued": 3,
        "sending": 0,
        "sent": 0,
        "failed": 0,
        "expired": 0,
        "suppressed": 0,
        "in_app": 1,
    }


# --- a fired rule, its daily count and its e-mail in one write ------------------------------


def mailer(stores: Stores, *, limit: int = 10, at: datetime = NOW) -> AlertMailer:
    return AlertMailer(
        users=stores.users,
        configurations=stores.configurations,
        preferences=stores.preferences,
        outbox=stores.outbox,
        settings=Settings(daily_alert_emails_account=limit, alert_cooldown_s=3600),
        clock=lambda: at,
    )


def test_a_crossing_fires_once_and_waits_out_its_cool_down(stores: Stores) -> None:
    a_user(stores)
    a_config(stores)
    rule = stores.alerts.put(a_rule(), max_allowed=5)

    assert mailer(stores).fire(rule, -0.5) == "queued"
    assert mailer(stores).fire(rule, -0.5) == "not_fired"  # in breach already
    fired = stores.alerts.get("u1", "c1", "a1")
    assert (fired.in_breach, fired.last_triggered_at) == (True, NOW)
    assert stores.alerts.emails_sent("u1", NOW.date()) == 1

    stores.alerts.rearm(fired)
    soon, later = NOW + timedelta(minutes=30), NOW + timedelta(hours=1)
    assert mailer(stores, at=soon).fire(fired, -0.5) == "not_fired"  # cooling down
    assert mailer(stores, at=later).fire(fired, -0.5) == "queued"


def test_past_the_daily_limit_the_notice_is_kept_and_not_sent(stores: Stores) -> None:
    a_user(stores)
    a_config(stores)
    first = stores.alerts.put(a_rule("a1"), max_allowed=5)
    second = stores.alerts.put(a_rule("a2"), max_allowed=5)

    assert mailer(stores, limit=1).fire(first, -0.5) == "queued"
    assert mailer(stores, limit=1).fire(second, -0.5) == "suppressed"

    states = sorted(e.state for e in stores.outbox.list_for_user("u1"))
    assert states == ["queued", "suppressed"]
    assert stores.alerts.get("u1", "c1", "a2").in_breach


def test_a_disabled_rule_fires_nothing(stores: Stores) -> None:
    a_user(stores)
    a_config(stores)
    rule = stores.alerts.put(a_rule(enabled=False), max_allowed=5)

    assert mailer(stores).fire(rule, -0.5) == "not_fired"
    assert stores.outbox.list_for_user("u1") == []
