"""An e-mail SendGrid accepted is never sent again: the acceptance is recorded before the settle,
both writes are retried, and an accepted e-mail found due later is settled, not resent.
The outbox is the fake of `test_deliver` with failing writes, then the table itself (moto)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from services.notifications.deliver import DeliveryPolicy, deliver_due
from services.resilience.guard import AllowAll
from services.store.outbox import DynamoOutbox, OutboxEmail
from tests.emails import Mailbox
from tests.unit.notifications.test_deliver import FakeOutbox, email
from tests.unit.resilience.support import START, Clock

pytestmark = pytest.mark.unit

POLICY = DeliveryPolicy(lease=timedelta(minutes=2))
THROTTLED = ClientError(
    {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
    "PutItem",
)


class FlakyOutbox(FakeOutbox):
    """Settling an e-mail as sent, or recording its acceptance, raises the next N times."""

    def __init__(self, *emails: OutboxEmail, settle_failures: int = 0, accept_failures: int = 0):
        super().__init__(*emails)
        self.settle_failures = settle_failures
        self.accept_failures = accept_failures

    def record_acceptance(
        self, claimed: OutboxEmail, message_id: str | None, at: datetime
    ) -> OutboxEmail | None:
        if self.accept_failures:
            self.accept_failures -= 1
            raise THROTTLED
        return super().record_acceptance(claimed, message_id, at)

    def settle(self, claimed: OutboxEmail, outcome: OutboxEmail) -> bool:
        if outcome.state == "sent" and self.settle_failures:
            self.settle_failures -= 1
            raise THROTTLED
        return super().settle(claimed, outcome)


def run(outbox: FakeOutbox, sender: Mailbox, clock: Clock, pauses: list[float]) -> Any:
    return deliver_due(
        outbox=outbox,
        sender=sender,
        guard=AllowAll(),
        clock=clock,
        policy=POLICY,
        sleep=pauses.append,
    )


def test_deliver_retries_a_failed_settle_and_sends_once() -> None:
    # Given an outbox whose first settle of a sent e-mail fails
    queued = email()
    outbox, sender, clock, pauses = FlakyOutbox(queued, settle_failures=1), Mailbox(), Clock(), []

    # When the outbox is delivered, and again after the claim would have run out
    first = run(outbox, sender, clock, pauses)
    clock.advance(POLICY.lease.total_seconds() + 1)
    second = run(outbox, sender, clock, pauses)

    # Then the settle was tried again after a short pause and the e-mail went out once
    assert (first.sent, first.unrecorded, second.due) == (1, 0, 0)
    assert len(sender.sent) == 1 and pauses == [0.1]
    stored = outbox.emails[queued.email_id]
    assert stored.state == "sent" and stored.provider_message_id == "m1"
    assert stored.accepted_at == START


def test_deliver_keeps_an_email_accepted_when_its_settle_always_fails() -> None:
    # Given an outbox that never takes the settle of a sent e-mail
    queued = email()
    outbox = FlakyOutbox(queued, email("alert:2"), settle_failures=10**6)
    sender, clock, pauses = Mailbox(), Clock(), []

    # When the outbox is delivered
    summary = run(outbox, sender, clock, pauses)

    # Then the first e-mail was sent, its acceptance kept, the tries bounded with a growing
    # pause, and the run stopped before sending anything it might not record
    assert (summary.sent, summary.unrecorded) == (1, 1)
    assert len(sender.sent) == 1 and pauses == [0.1, 0.2, 0.4]
    stored = outbox.emails[queued.email_id]
    assert stored.state == "sending" and stored.accepted_at == START
    assert stored.provider_message_id == "m1"


def test_a_later_run_does_not_send_an_accepted_email_again() -> None:
    # Given an e-mail whose acceptance was recorded but whose settle never got through
    queued = email()
    outbox = FlakyOutbox(queued, settle_failures=10**6)
    sender, clock, pauses = Mailbox(), Clock(), []
    run(outbox, sender, clock, pauses)

    # When its claim has run out and later runs find it due, the outbox still failing, then well
    clock.advance(POLICY.lease.total_seconds() + 1)
    still_failing = run(outbox, sender, clock, pauses)
    outbox.settle_failures = 0
    recovered = run(outbox, sender, clock, pauses)

    # Then it is never sent again, and is settled as sent when the outbox takes the write
    assert len(sender.sent) == 1
    assert (still_failing.sent, still_failing.unrecorded) == (0, 1)
    assert (recovered.sent, recovered.settled_without_sending) == (0, 1)
    stored = outbox.emails[queued.email_id]
    assert (stored.state, stored.sent_at, stored.provider_message_id) == ("sent", START, "m1")


def test_an_accepted_email_past_its_deadline_is_settled_as_sent_not_expired() -> None:
    accepted = replace(
        email(deliver_within=60),
        state="sending",
        attempts=1,
        next_attempt_at=START + POLICY.lease,
        accepted_at=START,
        provider_message_id="m0",
    )
    outbox, sender, clock = FlakyOutbox(accepted), Mailbox(), Clock()
    clock.advance(POLICY.lease.total_seconds())

    summary = run(outbox, sender, clock, [])

    assert (summary.settled_without_sending, summary.expired, sender.sent) == (1, 0, [])
    assert outbox.emails[accepted.email_id].state == "sent"


def test_a_run_that_cannot_record_an_acceptance_stops_sending() -> None:
    # Given an outbox that takes no acceptance record (the documented at-least-once case)
    queued = email()
    outbox = FlakyOutbox(queued, email("alert:2"), accept_failures=10**6)
    sender, clock = Mailbox(), Clock()

    # When the outbox is delivered
    summary = run(outbox, sender, clock, [])

    # Then one e-mail went out, unrecorded, and the second was not sent
    assert (summary.sent, summary.unrecorded, len(sender.sent)) == (1, 1, 1)
    assert outbox.emails[queued.email_id].accepted_at is None


@pytest.fixture
def outbox(moto_table: Any) -> DynamoOutbox:
    return DynamoOutbox(moto_table)


def test_table_records_an_acceptance_that_a_stale_claim_cannot_wipe(outbox: DynamoOutbox) -> None:
    # Given a claimed e-mail, and a copy of it read before SendGrid accepted it
    queued = email()
    outbox.enqueue(queued)
    claimed = outbox.claim(queued, START, POLICY.lease)
    assert claimed is not None

    # When its acceptance is recorded
    accepted = outbox.record_acceptance(claimed, "sg-message-1", START + timedelta(seconds=1))

    # Then it is stored with SendGrid's id, and a move from the stale copy is refused
    assert accepted is not None
    stored = outbox.get(queued.email_id)
    assert stored is not None
    assert (stored.state, stored.provider_message_id) == ("sending", "sg-message-1")
    assert stored.accepted_at == START + timedelta(seconds=1)
    assert outbox.claim(claimed, START + POLICY.lease, POLICY.lease) is None
    assert outbox.settle(accepted, replace(accepted, state="sent", sent_at=START))


def test_table_refuses_an_acceptance_for_a_lost_claim(outbox: DynamoOutbox) -> None:
    queued = email()
    outbox.enqueue(queued)
    first = outbox.claim(queued, START, POLICY.lease)
    assert first is not None
    # Another sender claimed it after the first claim ran out.
    assert outbox.claim(first, START + POLICY.lease, POLICY.lease) is not None

    assert outbox.record_acceptance(first, "sg-message-1", START) is None
