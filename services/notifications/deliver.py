"""Delivering the outbox: claim what is due, send it through SendGrid's guard, settle it.

An e-mail leaves the queue only as `sent`, `failed` (SendGrid refused the message itself:
sending it again cannot help) or `expired` (not delivered by its deadline). Everything else
(a 429, a 5xx, a time-out, an open circuit, a spent quota, a refused key) puts it back in
the queue for later, with a backoff, so nothing is dropped. A claim is conditional, so two
senders never send the same e-mail; a sender that dies mid-send leaves a claim that runs
out and the e-mail is claimed again.

Once SendGrid has answered 202 the e-mail is out, whatever happens to us next. So the first
thing done with that answer is to record it (`record_acceptance`: when, and SendGrid's
`X-Message-Id`), and only then is the e-mail settled as sent. Both writes are tried again a
few times with a short, growing pause (well inside the claim's lease). An e-mail found due
later whose acceptance was recorded (its sender died, or its settle never got through) is
settled as sent and never sent again. When the outbox still refuses a write after the last
try, the run stops: it sends nothing more that it might not be able to record.

What remains is at least once, not exactly once: a sender that dies, or loses the table for
longer than its tries, between SendGrid's 202 and the acceptance record leaves a claim with
no trace of the send, and when the claim runs out the e-mail is sent again. The copies carry
the same `X-Entity-Ref-ID` (the e-mail's id), so they can be recognised as one. No write of
ours can close that gap: SendGrid's send and our table cannot be changed in one step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol, TypeVar

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
LOG = logging.getLogger(__name__)
T = TypeVar("T")


class Outbox(Protocol):
    def due(self, now: datetime, *, limit: int = 50) -> list[OutboxEmail]: ...
    def claim(self, email: OutboxEmail, now: datetime, lease: timedelta) -> OutboxEmail | None: ...
    def record_acceptance(
        self, claimed: OutboxEmail, message_id: str | None, at: datetime
    ) -> OutboxEmail | None: ...
    def settle(self, claimed: OutboxEmail, outcome: OutboxEmail) -> bool: ...


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(minutes=30)
    lease: timedelta = timedelta(minutes=2)
    # A write after a send (the acceptance, the settle) is tried this many times, pausing
    # `write_pause`, then twice that, and so on: 0.1 + 0.2 + 0.4 s, far inside the lease.
    write_attempts: int = 4
    write_pause: timedelta = timedelta(milliseconds=100)

    def backoff(self, attempts: int) -> timedelta:
        """30 s, 60 s, 120 s ... up to the cap, by the attempts made so far."""
        factor = 2 ** max(0, min(attempts - 1, 20))
        wait: timedelta = min(self.retry_max, self.retry_base * factor)
        return wait

    def write_pauses(self) -> list[float]:
        """Seconds to wait before each try of a write after the first."""
        first = self.write_pause.total_seconds()
        return [first * 2**n for n in range(max(0, self.write_attempts - 1))]


@dataclass
class DeliverySummary:
    due: int = 0
    sent: int = 0
    retry_later: int = 0
    failed: int = 0
    expired: int = 0
    # Due e-mails another sender claimed first.
    skipped: int = 0
    # Due e-mails SendGrid had accepted before their sender could settle them: settled as
    # sent, not sent again.
    settled_without_sending: int = 0
    # Writes the outbox still refused after every try; the run stopped at the first.
    unrecorded: int = 0


class OutboxWriteError(Exception):
    """The outbox refused a write about one e-mail on every try."""

    def __init__(self, what: str, email_id: str, attempts: int) -> None:
        super().__init__(f"the outbox refused to {what} e-mail {email_id} {attempts} times")


def deliver_due(
    *,
    outbox: Outbox,
    sender: EmailSender,
    guard: CallGuard,
    clock: Clock,
    policy: DeliveryPolicy,
    limit: int = 50,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliverySummary:
    summary = DeliverySummary()
    for email in outbox.due(clock(), limit=limit):
        summary.due += 1
        try:
            _deliver(
                email,
                outbox=outbox,
                sender=sender,
                guard=guard,
                clock=clock,
                policy=policy,
                sleep=sleep,
                summary=summary,
            )
        except OutboxWriteError as error:
            summary.unrecorded += 1
            LOG.error("%s; this delivery run stops here", error, exc_info=error.__cause__)
            break
    return summary


def _deliver(
    email: OutboxEmail,
    *,
    outbox: Outbox,
    sender: EmailSender,
    guard: CallGuard,
    clock: Clock,
    policy: DeliveryPolicy,
    sleep: Callable[[float], None],
    summary: DeliverySummary,
) -> None:
    persist = partial(_persist, policy=policy, sleep=sleep)
    if email.accepted_at is not None:
        # SendGrid has it: settle it from the copy read, which is also a claim (the move is
        # conditional on the state and attempt read), and do not send it again.
        done = replace(email, state="sent", sent_at=email.accepted_at, last_error=None)
        if persist("settle", email, partial(outbox.settle, email, done)):
            summary.settled_without_sending += 1
        else:
            summary.skipped += 1
        return
    now = clock()
    claimed = outbox.claim(email, now, policy.lease)
    if claimed is None:
        summary.skipped += 1
        return
    if now > email.deliver_by:
        expired = replace(
            claimed, state="expired", sent_at=now, last_error=_last(email, "deadline passed")
        )
        persist("settle", claimed, partial(outbox.settle, claimed, expired))
        summary.expired += 1
        return
    outcome = _send(claimed, sender=sender, guard=guard, clock=clock, policy=policy)
    if outcome.state == "sent":
        summary.sent += 1
        accept = partial(
            outbox.record_acceptance,
            claimed,
            outcome.provider_message_id,
            outcome.sent_at or clock(),
        )
        accepted = persist("record the acceptance of", claimed, accept)
        if accepted is None:
            # The claim ran out before SendGrid answered and another sender holds the e-mail
            # now: the item is theirs to settle (a longer lease would have avoided this).
            LOG.warning("e-mail %s was sent after its claim ran out", claimed.email_id)
            return
        outcome = replace(outcome, accepted_at=accepted.accepted_at)
        persist("settle", accepted, partial(outbox.settle, accepted, outcome))
        return
    persist("settle", claimed, partial(outbox.settle, claimed, outcome))
    if outcome.state == "failed":
        summary.failed += 1
    else:
        summary.retry_later += 1


def _persist(
    what: str,
    email: OutboxEmail,
    write: Callable[[], T],
    *,
    policy: DeliveryPolicy,
    sleep: Callable[[float], None],
) -> T:
    """`write()`, tried again after each of the policy's pauses while it raises.

    Whatever the table's client raises is worth another try (throttling, a dropped
    connection, a time-out); a failed condition is not raised but answered (False, None)."""
    pauses = iter(policy.write_pauses())
    while True:
        try:
            return write()
        except Exception as error:
            pause = next(pauses, None)
            if pause is None:
                raise OutboxWriteError(what, email.email_id, policy.write_attempts) from error
            sleep(pause)


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
