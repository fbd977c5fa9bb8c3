"""Delivering the outbox: what happens to an e-mail on success, on each kind of failure, past
its deadline, and when another sender claimed it first. The outbox here is a small fake with
the same conditional moves as the table's."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from services.adapters.errors import (
    EmailSenderNotVerifiedError,
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderError,
    ProviderForbiddenError,
    ProviderQuotaExceededError,
    ProviderRateLimitedError,
    ProviderUnavailableError,
)
from services.notifications.deliver import DeliveryPolicy, deliver_due
from services.resilience.breaker import CircuitOpenError
from services.resilience.guard import AllowAll
from services.store.outbox import OutboxEmail
from tests.emails import Mailbox
from tests.unit.resilience.support import START, Clock

pytestmark = pytest.mark.unit

POLICY = DeliveryPolicy(
    retry_base=timedelta(seconds=30), retry_max=timedelta(minutes=30), lease=timedelta(minutes=2)
)


class FakeOutbox:
    def __init__(self, *emails: OutboxEmail) -> None:
        self.emails = {e.email_id: e for e in emails}
        self.stolen: set[str] = set()

    def due(self, now: datetime, *, limit: int = 50) -> list[OutboxEmail]:
        return [
            e
            for e in self.emails.values()
            if e.state in ("queued", "sending") and e.next_attempt_at <= now
        ][:limit]

    def claim(self, email: OutboxEmail, now: datetime, lease: timedelta) -> OutboxEmail | None:
        if email.email_id in self.stolen:
            return None
        claimed = replace(
            email, state="sending", attempts=email.attempts + 1, next_attempt_at=now + lease
        )
        return claimed if self.settle(email, claimed) else None

    def record_acceptance(
        self, claimed: OutboxEmail, message_id: str | None, at: datetime
    ) -> OutboxEmail | None:
        stored = self.emails[claimed.email_id]
        if (stored.state, stored.attempts) != (claimed.state, claimed.attempts):
            return None
        accepted = replace(stored, accepted_at=at, provider_message_id=message_id)
        self.emails[claimed.email_id] = accepted
        return accepted

    def settle(self, claimed: OutboxEmail, outcome: OutboxEmail) -> bool:
        stored = self.emails[claimed.email_id]
        if (stored.state, stored.attempts) != (claimed.state, claimed.attempts):
            return False
        if stored.accepted_at is not None and claimed.accepted_at is None:
            return False  # as the table: a stale copy never overwrites a recorded acceptance
        self.emails[claimed.email_id] = outcome
        return True


def email(key: str = "alert:1", *, deliver_within: float = 3600) -> OutboxEmail:
    return OutboxEmail(
        idempotency_key=key,
        kind="alert",
        user_id="u1",
        to="jane@example.com",
        subject="AAPL sentiment is below -0.20",
        text="...",
        created_at=START,
        deliver_by=START + timedelta(seconds=deliver_within),
        next_attempt_at=START,
    )


def run(outbox: FakeOutbox, sender: Mailbox, clock: Clock, guard=None):
    return deliver_due(
        outbox=outbox, sender=sender, guard=guard or AllowAll(), clock=clock, policy=POLICY
    )


def test_deliver_sends_a_due_email_once_and_marks_it_sent() -> None:
    # Given one queued e-mail
    queued = email()
    outbox, sender, clock = FakeOutbox(queued), Mailbox(), Clock()

    # When the outbox is delivered twice
    first = run(outbox, sender, clock)
    second = run(outbox, sender, clock)

    # Then it went out once, under its own reference, and is recorded as sent
    assert (first.sent, second.due) == (1, 0)
    assert [m.reference for m in sender.sent] == [queued.email_id]
    stored = outbox.emails[queued.email_id]
    assert stored.state == "sent" and stored.provider_message_id == "m1" and stored.attempts == 1


@pytest.mark.parametrize(
    ("failure", "wait_s"),
    [
        (ProviderRateLimitedError("sendgrid", "rate limited", retry_after=90), 90),
        (ProviderRateLimitedError("sendgrid", "rate limited", retry_after=5), 30),
        (ProviderUnavailableError("sendgrid", "server error 503", 503), 30),
        (ProviderAuthError("sendgrid", "the API key was refused (401)", 401), 30),
        # An unverified sender is fixed by an operator: the e-mail waits for it, not dropped.
        (EmailSenderNotVerifiedError("sendgrid", "sender (403)", reason="The from ..."), 30),
        (ProviderForbiddenError("sendgrid", "refused (403)", reason="blocked"), 30),
        (ProviderQuotaExceededError("sendgrid", "credits", 401, retry_after=600), 600),
    ],
)
def test_deliver_keeps_an_email_that_meets_a_passing_failure_for_later(
    failure: ProviderError, wait_s: float
) -> None:
    queued = email()
    outbox, clock = FakeOutbox(queued), Clock()

    summary = run(outbox, Mailbox(failure), clock)

    stored = outbox.emails[queued.email_id]
    assert summary.retry_later == 1
    assert stored.state == "queued" and stored.attempts == 1
    assert stored.next_attempt_at == START + timedelta(seconds=wait_s)
    assert stored.last_error == str(failure)


def test_deliver_backs_off_doubling_up_to_the_cap() -> None:
    waits = [POLICY.backoff(n).total_seconds() for n in range(1, 9)]
    assert waits == [30, 60, 120, 240, 480, 960, 1800, 1800]


def test_deliver_waits_for_an_open_circuit_as_long_as_it_says() -> None:
    queued = email()
    outbox, clock = FakeOutbox(queued), Clock()

    class OpenCircuit:
        def call(self, service, operation, *, priority=False):  # type: ignore[no-untyped-def]
            raise CircuitOpenError(service, START + timedelta(seconds=45), START, "5 failures")

    sender = Mailbox()
    run(outbox, sender, clock, guard=OpenCircuit())

    assert sender.sent == []
    assert outbox.emails[queued.email_id].next_attempt_at == START + timedelta(seconds=45)


def test_deliver_gives_up_only_on_a_message_sendgrid_rejects() -> None:
    queued = email()
    outbox = FakeOutbox(queued)

    summary = run(
        outbox, Mailbox(ProviderBadRequestError("sendgrid", "rejected (400)", 400)), Clock()
    )

    assert summary.failed == 1 and outbox.emails[queued.email_id].state == "failed"


def test_deliver_expires_an_email_past_its_deadline_without_sending_it() -> None:
    queued = replace(email(deliver_within=60), last_error="server error 503")
    outbox, sender, clock = FakeOutbox(queued), Mailbox(), Clock()
    clock.advance(61)

    summary = run(outbox, sender, clock)

    stored = outbox.emails[queued.email_id]
    assert summary.expired == 1 and sender.sent == []
    assert stored.state == "expired" and "server error 503" in (stored.last_error or "")


def test_deliver_skips_an_email_another_sender_claimed() -> None:
    queued = email()
    outbox, sender = FakeOutbox(queued), Mailbox()
    outbox.stolen.add(queued.email_id)

    summary = run(outbox, sender, Clock())

    assert (summary.skipped, summary.sent, sender.sent) == (1, 0, [])


def test_deliver_retries_a_claim_whose_sender_died() -> None:
    # Given an e-mail claimed by a sender that never came back
    claimed = replace(email(), state="sending", attempts=1, next_attempt_at=START + POLICY.lease)
    outbox, sender, clock = FakeOutbox(claimed), Mailbox(), Clock()

    # When the claim has run out
    assert run(outbox, sender, clock).due == 0
    clock.advance(POLICY.lease.total_seconds())
    summary = run(outbox, sender, clock)

    # Then another run sends it
    assert summary.sent == 1 and outbox.emails[claimed.email_id].attempts == 2
