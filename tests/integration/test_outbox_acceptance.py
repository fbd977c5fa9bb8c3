"""On DynamoDB Local: an e-mail whose sender died after SendGrid accepted it (its acceptance
recorded, not yet settled) is settled as sent by the next run once its claim runs out, and
is not sent again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.clock import utc_now
from services.notifications.deliver import DeliveryPolicy, deliver_due
from services.resilience.guard import AllowAll
from services.store.outbox import DynamoOutbox
from tests.emails import Mailbox, alert_email

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_an_accepted_email_of_a_dead_sender_is_settled_not_resent(fresh_table) -> None:
    # Given an e-mail claimed, sent and recorded as accepted by a sender that then died
    outbox = DynamoOutbox(fresh_table)
    now = utc_now()
    queued = alert_email("alert:accepted", now)
    outbox.enqueue(queued)
    policy = DeliveryPolicy(lease=timedelta(minutes=2))
    claimed = outbox.claim(queued, now, policy.lease)
    assert claimed is not None
    assert outbox.record_acceptance(claimed, "sg-1", now) is not None

    # When a later run finds it due after the claim ran out
    sender = Mailbox()
    later = now + policy.lease + timedelta(seconds=1)
    summary = deliver_due(
        outbox=outbox, sender=sender, guard=AllowAll(), clock=lambda: later, policy=policy
    )

    # Then it is settled as sent with SendGrid's first id, and nothing is sent
    assert (summary.settled_without_sending, summary.sent, sender.sent) == (1, 0, [])
    stored = outbox.get(queued.email_id)
    assert stored is not None
    assert (stored.state, stored.provider_message_id) == ("sent", "sg-1")
    assert outbox.count_by_state()["sending"] == 0
