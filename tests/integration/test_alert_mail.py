"""Firing an alert on DynamoDB Local: the rule's state, the user's daily count and the
e-mail change in one transaction, so a crossing seen by two workers fires once, the daily
limit holds, and users without an address or with alert e-mails off get in-app notices."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from services.clock import utc_now
from services.notifications.alert_mail import AlertMailer
from services.settings import Settings
from services.store.alerts import DynamoAlertRepository
from services.store.configurations import DynamoConfigurationRepository
from services.store.models import Alert, Configuration, User
from services.store.outbox import DynamoOutbox
from services.store.preferences import DynamoPreferenceRepository
from services.store.users import DynamoUserRepository

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def setup(table, *, email: str | None = "jane@example.com", limit: int = 10):  # type: ignore[no-untyped-def]
    now = utc_now()
    user = User(
        user_id=str(uuid.uuid4()),
        auth_type="magic_link" if email else "anonymous",
        created_at=now,
        email=email,
    )
    DynamoUserRepository(table).create(user)
    config = Configuration(str(uuid.uuid4()), user.user_id, "Tech", ("AAPL",), now, now)
    DynamoConfigurationRepository(table).create(config, max_allowed=2)
    alerts = DynamoAlertRepository(table)
    mailer = AlertMailer(
        users=DynamoUserRepository(table),
        configurations=DynamoConfigurationRepository(table),
        preferences=DynamoPreferenceRepository(table),
        outbox=DynamoOutbox(table),
        settings=Settings(daily_alert_emails_account=limit, alert_cooldown_s=3600),
        clock=utc_now,
    )
    return user, config, alerts, mailer


def new_rule(alerts: DynamoAlertRepository, user: User, config: Configuration) -> Alert:
    now = utc_now()
    rule = Alert(
        str(uuid.uuid4()), user.user_id, config.config_id, "AAPL", "sentiment_threshold",
        "below", -0.2, True, now, now,
    )  # fmt: skip
    return alerts.put(rule, max_allowed=10)


def test_two_workers_seeing_one_crossing_fire_it_once(fresh_table) -> None:
    user, config, alerts, mailer = setup(fresh_table)
    rule = new_rule(alerts, user, config)
    outcomes: list[str] = []

    def fire() -> None:
        outcomes.append(mailer.fire(rule, -0.5))

    workers = [threading.Thread(target=fire) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(outcomes) == ["not_fired"] * 3 + ["queued"]
    assert len(DynamoOutbox(fresh_table).list_for_user(user.user_id)) == 1
    stored = alerts.get(user.user_id, config.config_id, rule.alert_id)
    assert stored.in_breach and stored.last_triggered_at is not None


def test_a_rearmed_rule_waits_out_its_cool_down(fresh_table) -> None:
    user, config, alerts, mailer = setup(fresh_table)
    rule = new_rule(alerts, user, config)
    assert mailer.fire(rule, -0.5) == "queued"
    alerts.rearm(alerts.get(user.user_id, config.config_id, rule.alert_id))

    again = alerts.get(user.user_id, config.config_id, rule.alert_id)
    assert mailer.fire(again, -0.6) == "not_fired"  # within the hour


def test_past_the_daily_limit_the_notice_is_kept_and_not_sent(fresh_table) -> None:
    user, config, alerts, mailer = setup(fresh_table, limit=1)
    first, second = new_rule(alerts, user, config), new_rule(alerts, user, config)

    assert mailer.fire(first, -0.5) == "queued"
    assert mailer.fire(second, -0.5) == "suppressed"

    notices = {e.state for e in DynamoOutbox(fresh_table).list_for_user(user.user_id)}
    assert notices == {"queued", "suppressed"}
    assert DynamoAlertRepository(fresh_table).emails_sent(user.user_id, utc_now().date()) == 1


def test_no_address_or_alert_emails_off_means_in_app_only(fresh_table) -> None:
    anonymous, config, alerts, mailer = setup(fresh_table, email=None)
    assert mailer.fire(new_rule(alerts, anonymous, config), -0.5) == "in_app"

    user, config, alerts, mailer = setup(fresh_table, email="off@example.com")
    DynamoPreferenceRepository(fresh_table).update(user.user_id, utc_now(), alert_emails=False)
    assert mailer.fire(new_rule(alerts, user, config), -0.5) == "in_app"
    [notice] = DynamoOutbox(fresh_table).list_for_user(user.user_id)
    assert notice.to is None and notice.state == "in_app"


def test_a_deleted_configuration_fires_nothing(fresh_table) -> None:
    user, config, alerts, mailer = setup(fresh_table)
    rule = new_rule(alerts, user, config)
    DynamoConfigurationRepository(fresh_table).soft_delete(
        user.user_id, config.config_id, utc_now() + timedelta(seconds=1)
    )
    assert mailer.fire(rule, -0.5) == "not_fired"
