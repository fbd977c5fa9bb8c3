"""The outbox on DynamoDB Local: an idempotency key stores one e-mail, a claim is won by one
sender, the queue is read through `by_status` and the history through `by_tag`, and two
senders working the same queue at once send every e-mail exactly once."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from services.adapters.email import EmailMessage, SentEmail
from services.clock import utc_now
from services.notifications.deliver import DeliveryPolicy, deliver_due
from services.resilience.guard import AllowAll
from services.store import keys
from services.store.alerts import daily_email_operation
from services.store.outbox import (
    DuplicateEmailError,
    DynamoOutbox,
    OutboxConditionError,
)
from tests.emails import alert_email

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_an_idempotency_key_stores_one_email(fresh_table) -> None:
    outbox = DynamoOutbox(fresh_table)
    first = alert_email("alert:1", utc_now())
    outbox.enqueue(first)
    with pytest.raises(DuplicateEmailError):
        outbox.enqueue(replace(first, subject="changed"))
    stored = outbox.get(first.email_id)
    assert stored is not None and stored.subject == "alert:1"
    assert stored.details == {"ticker": "AAPL", "value": -0.4567}


def test_a_failed_condition_of_another_operation_writes_nothing(fresh_table) -> None:
    outbox = DynamoOutbox(fresh_table)
    today = utc_now().date()
    limit = daily_email_operation("u1", today, 1, timedelta(days=2))
    outbox.enqueue(alert_email("alert:1", utc_now()), with_operations=[limit])

    with pytest.raises(OutboxConditionError) as refused:
        outbox.enqueue(alert_email("alert:2", utc_now()), with_operations=[limit])

    assert refused.value.index == 0
    assert outbox.get(alert_email("alert:2", utc_now()).email_id) is None
    counter = fresh_table.get_item(Key=keys.user_email_count("u1", today.isoformat()))["Item"]
    assert int(counter["count"]) == 1


def test_due_lists_what_is_due_and_a_claim_is_won_once(fresh_table) -> None:
    outbox = DynamoOutbox(fresh_table)
    outbox.enqueue(alert_email("now", utc_now()))
    outbox.enqueue(alert_email("later", utc_now(), delay_s=3600))
    now = utc_now()

    due = outbox.due(now)
    assert [e.idempotency_key for e in due] == ["now"]
    lease = timedelta(seconds=60)
    claimed = outbox.claim(due[0], now, lease)
    assert claimed is not None and claimed.attempts == 1
    assert outbox.claim(due[0], now, lease) is None  # the second sender loses
    assert outbox.due(now) == []
    # ... until the claim runs out
    assert [e.idempotency_key for e in outbox.due(now + lease)] == ["now"]


def test_history_and_counts_read_the_indexes(fresh_table) -> None:
    outbox = DynamoOutbox(fresh_table)
    outbox.enqueue(alert_email("a", utc_now()))
    outbox.enqueue(replace(alert_email("b", utc_now()), state="in_app", to=None, sent_at=utc_now()))
    outbox.enqueue(alert_email("c", utc_now(), user_id="someone else"))

    mine = outbox.list_for_user("u1")

    assert {e.idempotency_key for e in mine} == {"a", "b"}
    counts = outbox.count_by_state()
    assert (counts["queued"], counts["in_app"], counts["sent"]) == (2, 1, 0)


class CountingSender:
    def __init__(self) -> None:
        self.sent: list[str | None] = []
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> SentEmail:
        with self._lock:
            self.sent.append(message.reference)
        return SentEmail(message_id=None, status=202)


def test_two_senders_on_one_queue_send_every_email_exactly_once(fresh_table) -> None:
    outbox = DynamoOutbox(fresh_table)
    emails = [alert_email(f"bulk:{n}", utc_now()) for n in range(40)]
    for queued in emails:
        outbox.enqueue(queued)
    sender = CountingSender()
    policy = DeliveryPolicy()

    def work() -> None:
        for _ in range(3):
            deliver_due(
                outbox=outbox, sender=sender, guard=AllowAll(), clock=utc_now, policy=policy
            )

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(sender.sent) == sorted(e.email_id for e in emails)  # type: ignore[type-var]
    assert outbox.count_by_state()["sent"] == 40
