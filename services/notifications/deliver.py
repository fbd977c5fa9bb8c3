"""Delivering the outbox: claim what is due, send it through SendGrid's guard, settle it.

An e-mail leaves the queue only as `sent`, `failed` (SendGrid refused the message itself:
sending it again cannot help) or `expired` (not delivered by its deadline). Everything else
(a 429, a 5xx, a time-out, an open circuit, a spent quota, a refused key) puts it back in
the queue for later, with a backoff, so nothing is dropped. A claim is conditional, so two
senders never send the same e-mail; a sender that dies mid-send leaves a claim that runs
out and the e-mail is claimed again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from services.adapters.email import EmailMessage, EmailSender
from services.adapters.errors import (
    ProviderBadRequestError,
    ProviderError,
    ProviderRateLimitedError,
)
from services.clock import Clock
from services.resilience.guard import CallGuard, CallRefusedError
from services.store.outbox import OutboxEmail

PROVIDER = "sendgrid"


class Outbox(Protocol):
    def due(self, now: datetime, *, limit: int = 50) -> list[OutboxEmail]: ...
    def claim(self, email: OutboxEmail, now: datetime, lease: timedelta) -> OutboxEmail | None: ...
    def settle(self, claimed: OutboxEmail, outcome: OutboxEmail) -> bool: ...


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(minutes=30)
    lease: timedelta = timedelta(minutes=2)

    def backoff(self, attempts: int) -> timedelta:
        """30 s, 60 s, 120 s ... up to the cap, by the attempts made so far."""
        factor = 2 ** max(0, min(attempts - 1, 20))
        wait: timedelta = min(self.retry_max, self.retry_base * factor)
        return wait


@dataclass
class DeliverySummary:
    due: int = 0
    sent: int = 0
    retry_later: int = 0
    failed: int = 0
    expired: int = 0
    # Due e-mails another sender claimed first.
    skipped: int = 0


def deliver_due(
    *,
    outbox: Outbox,
    sender: EmailSender,
    guard: CallGuard,
    clock: Clock,
    policy: DeliveryPolicy,
    limit: int = 50,
) -> DeliverySummary:
    summary = DeliverySummary()
    for email in outbox.due(clock(), limit=limit):
        summary.due += 1
        now = clock()
        if now > email.deliver_by:
            claimed = outbox.claim(email, now, policy.lease)
            if claimed is None:
                summary.skipped += 1
                continue
            expired = replace(claimed, state="expired", sent_at=now)
            outbox.settle(claimed, replace(expired, last_error=_last(email, "deadline passed")))
            summary.expired += 1
            continue
        claimed = outbox.claim(email, now, policy.lease)
        if claimed is None:
            summary.skipped += 1
            continue
        outcome = _send(claimed, sender=sender, guard=guard, clock=clock, policy=policy)
        outbox.settle(claimed, outcome)
        if outcome.state == "sent":
            summary.sent += 1
        elif outcome.state == "failed":
            summary.failed += 1
        else:
            summary.retry_later += 1
    return summary


def _send(
    email: OutboxEmail,
    *,
    sender: EmailSender,
    guard: CallGuard,
    clock: Clock,
    policy: DeliveryPolicy,
) -> OutboxEmail:
    assert email.to is not None, "only e-mails with an address are queued"
    message = EmailMessage(
        to=email.to,
        subject=email.subject,
        text=email.text,
        html=email.html,
        reference=email.email_id,
    )
    try:
        sent = guard.call(PROVIDER, partial(sender.send, message), priority=email.priority)
    except ProviderBadRequestError as error:
        return replace(email, state="failed", sent_at=clock(), last_error=str(error))
    except ProviderError as error:
        now = clock()
        wait = policy.backoff(email.attempts)
        if isinstance(error, ProviderRateLimitedError) and error.retry_after:
            wait = max(wait, timedelta(seconds=error.retry_after))
        if isinstance(error, CallRefusedError):
            # An open circuit or a spent quota knows when asking again makes sense.
            wait = max(policy.retry_base, timedelta(seconds=error.retry_after_s))
        return replace(email, state="queued", next_attempt_at=now + wait, last_error=str(error))
    return replace(
        email,
        state="sent",
        sent_at=clock(),
        provider_message_id=sent.message_id,
        last_error=None,
    )


def _last(email: OutboxEmail, reason: str) -> str:
    return f"{reason}; last error: {email.last_error}" if email.last_error else reason
