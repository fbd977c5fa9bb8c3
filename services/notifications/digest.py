"""The daily digest: each account's watchlist tickers with their current sentiment.

Queued once per user and day (the idempotency key is the user and the date), so a digest
run repeated after a failure queues nothing twice. Delivery is the outbox's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.clock import Clock
from services.market.sentiment_view import BucketReader, ticker_sentiment
from services.notifications.templates import DigestLine, digest_email
from services.notifications.unsubscribe import link_for
from services.settings import Settings
from services.store.models import Configuration, User
from services.store.outbox import DuplicateEmailError, OutboxEmail
from services.store.preferences import EmailPreferences


class Accounts(Protocol):
    def list_accounts(self, *, limit: int) -> list[User]: ...


class Configurations(Protocol):
    def list_for_user(self, user_id: str) -> list[Configuration]: ...


class Preferences(Protocol):
    def get(self, user_id: str) -> EmailPreferences: ...


class Outbox(Protocol):
    def enqueue(self, email: OutboxEmail, *, with_operations: Any = ()) -> None: ...


@dataclass
class DigestSummary:
    accounts: int = 0
    queued: int = 0
    already_queued: int = 0
    opted_out: int = 0
    no_tickers: int = 0
    # True when the run stopped at `digest_max_accounts`: the cap bounds a run's reads.
    capped: bool = False


def queue_digests(
    *,
    accounts: Accounts,
    configurations: Configurations,
    preferences: Preferences,
    sentiment: BucketReader,
    outbox: Outbox,
    settings: Settings,
    clock: Clock,
) -> DigestSummary:
    now = clock()
    summary = DigestSummary()
    # Each ticker's line is read once per run, however many watchlists hold it.
    lines: dict[str, DigestLine] = {}
    # A bounded query of the accounts directory: anonymous users are never in it, so the
    # run's cost follows the number of accounts, not the size of the table.
    listed = accounts.list_accounts(limit=settings.digest_max_accounts)
    summary.capped = len(listed) >= settings.digest_max_accounts
    for user in listed:
        if not user.email or user.merged_into:
            continue
        summary.accounts += 1
        if not preferences.get(user.user_id).digest_emails:
            summary.opted_out += 1
            continue
        tickers = _tickers(configurations.list_for_user(user.user_id))
        if not tickers:
            summary.no_tickers += 1
            continue
        for ticker in tickers:
            if ticker not in lines:
                lines[ticker] = _digest_line(sentiment, ticker, now)
        email = _digest_email(
            user.user_id, user.email, tickers, [lines[t] for t in tickers], now, settings
        )
        try:
            outbox.enqueue(email)
        except DuplicateEmailError:
            summary.already_queued += 1
            continue
        summary.queued += 1
    return summary


def _digest_line(sentiment: BucketReader, ticker: str, now: datetime) -> DigestLine:
    aggregated = ticker_sentiment(sentiment, ticker, now).aggregated
    return DigestLine(ticker, aggregated.score, aggregated.label, aggregated.confidence)


def _digest_email(
    user_id: str,
    address: str,
    tickers: list[str],
    lines: list[DigestLine],
    now: datetime,
    settings: Settings,
) -> OutboxEmail:
    """One user's digest of the day, keyed by user and day so a repeated run queues it once."""
    day = now.date().isoformat()
    composed = digest_email(
        day, lines, settings.magic_link_url, link_for(settings, user_id, "digest")
    )
    return OutboxEmail(
        idempotency_key=f"digest:{user_id}:{day}",
        kind="digest",
        user_id=user_id,
        to=address,
        subject=composed.subject,
        text=composed.text,
        html=composed.html,
        created_at=now,
        deliver_by=now + timedelta(seconds=settings.email_delivery_deadline_s),
        next_attempt_at=now,
        details={"tickers": list(tickers), "day": day},
    )


def _tickers(configs: Iterable[Configuration]) -> list[str]:
    seen: dict[str, None] = {}
    for config in configs:
        for ticker in config.tickers:
            seen.setdefault(ticker, None)
    return list(seen)
