"""The alert e-mail the outbox tests queue, and an e-mail provider that keeps what it is sent:
for the unit, contract and integration tests alike, so this module imports no fixture."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.adapters.email import EmailMessage, SentEmail
from services.store.outbox import OutboxEmail


def alert_email(
    key: str, now: datetime, *, user_id: str | None = "u1", delay_s: float = 0
) -> OutboxEmail:
    """An alert e-mail to jane@example.com under the idempotency key (and subject) `key`,
    queued at `now` to be delivered within the hour, due `delay_s` after `now`."""
    return OutboxEmail(
        idempotency_key=key,
        kind="alert",
        user_id=user_id,
        to="jane@example.com",
        subject=key,
        text="text",
        created_at=now,
        deliver_by=now + timedelta(hours=1),
        next_attempt_at=now + timedelta(seconds=delay_s),
        details={"ticker": "AAPL", "value": -0.4567},
    )


class Mailbox:
    """An e-mail provider that raises each of `failures` in turn, then accepts every message
    and keeps it in `sent`, its id m1, m2, ... in the order accepted."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> SentEmail:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return SentEmail(message_id=f"m{len(self.sent)}", status=202)
