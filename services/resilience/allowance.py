"""Allowances: how many times one subject (a recipient address, a caller's network address, a
session) may cause something costly in a UTC period, counted exactly by every instance.

A quota (`quota.py`) protects what a provider allows all of us; an allowance keeps any one
caller from spending much of it. Each use is one conditional add on the subject's counter
of the period (`services/store/allowances.py`), so the limit holds exactly across instances,
and a refused use counts nothing. `take` claims several allowances at once (a recipient's
and the caller's address): all of them, or none, since what the first ones counted is given
back when a later one refuses. A use whose costly part did not happen after all (the
provider was never asked) can be given back too.

Subjects are hashed before they reach the table (SHA-256, as e-mail addresses are everywhere
in it), so no address is stored in clear.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.clock import Clock
from services.resilience.quota_rules import PeriodKind, period_of
from services.store.allowances import AllowanceStore

# How long a counter outlives its period: long enough for a person looking into an abuse.
DEFAULT_KEEP_AFTER_PERIOD = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Allowance:
    """At most `limit` uses per subject per UTC `per`; `name` keys the counters and tells
    the caller which limit it met (`sign_in_emails_per_recipient`); `what` says it to a
    person ("sign-in e-mails to this address")."""

    name: str
    limit: int
    what: str
    per: PeriodKind = "hour"


@dataclass(frozen=True, slots=True)
class Claim:
    allowance: Allowance
    subject: str


@dataclass(frozen=True, slots=True)
class TakenUse:
    allowance: Allowance
    subject_hash: str
    period: str


@dataclass(frozen=True, slots=True)
class Taken:
    """The uses one `take` counted: what `give_back` takes back."""

    uses: tuple[TakenUse, ...]


class AllowanceExceededError(Exception):
    """The subject used up `allowance` for this period; `retry_after_s`: until it resets."""

    def __init__(self, allowance: Allowance, retry_after_s: int) -> None:
        article = "an" if allowance.per == "hour" else "a"
        super().__init__(
            f"too many {allowance.what}: at most {allowance.limit} {article} {allowance.per}"
        )
        self.allowance = allowance
        self.retry_after_s = retry_after_s


def subject_hash(subject: str) -> str:
    return hashlib.sha256(subject.encode()).hexdigest()


class Allowances:
    def __init__(
        self,
        store: AllowanceStore,
        clock: Clock,
        *,
        keep_after_period: timedelta = DEFAULT_KEEP_AFTER_PERIOD,
    ) -> None:
        self._store = store
        self._clock = clock
        self._keep = keep_after_period

    def take(self, claims: Sequence[Claim]) -> Taken:
        """Count one use of each claim, in order, or none (`AllowanceExceededError` names
        the first allowance that refused)."""
        now = self._clock()
        taken: list[TakenUse] = []
        for claim in claims:
            allowance = claim.allowance
            period = period_of(allowance.per, now)
            hashed = subject_hash(claim.subject)
            used = self._store.take(
                allowance.name,
                hashed,
                period.key,
                limit=allowance.limit,
                now=now,
                expires_at=period.end + self._keep,
            )
            if used is None:
                self.give_back(Taken(tuple(taken)))
                raise AllowanceExceededError(allowance, seconds_left(period.end, now))
            taken.append(TakenUse(allowance, hashed, period.key))
        return Taken(tuple(taken))

    def give_back(self, taken: Taken) -> None:
        """Take back uses whose costly part did not happen (a use of a period that is over
        is taken back from that period, where it was counted)."""
        now = self._clock()
        for use in taken.uses:
            self._store.give_back(use.allowance.name, use.subject_hash, use.period, now=now)


def seconds_left(end: datetime, now: datetime) -> int:
    """Whole seconds until `end` (at least one): an HTTP `Retry-After`."""
    return max(1, math.ceil((end - now).total_seconds()))
