"""Quota tracking per external service, in the provider's own period, shared through the table.

Each service has a limit per period (Tiingo 500 a month, Finnhub 60 a minute, SendGrid 100 a
day: settings), counted from the start of the UTC month, minute or day. Levels: `ok`, then
`warning` from 50 % used, `critical` from 80 %. The last 10 % is a reserve: a call without
priority is refused (`QuotaExhaustedError`) once 90 % is used, a priority call (something a
person is waiting for) only at 100 %.

How "used" is known without a table read per call. Each instance keeps, per service, the
period's total as last read from the table (`synced`) and the calls it made since that it has
not yet added (`pending`). Its estimate of "used" is `synced + pending`. The estimate can
only be low, never high: other instances' calls since the last sync are missing from it. So:

- a refusal made on the estimate is always right (the true total is at least as high);
- far from the limit, calls are only counted in memory, and the pending count is added with
  one atomic `ADD` (which returns the new total: add and read in one request) on the first
  call after `sync_interval` (60 s), when a batch of calls is pending (5 % of the limit, so a
  burst does not wait for the minute), at once when the estimate crosses a level (so a
  warning or critical level is visible to everyone without waiting), and by `flush()`;
- near the limit (from the critical level on), batching would let instances that each see
  room spend the same last units, so every call there is its own conditional add: the add
  happens only if the table's total stays within the caller's cap (90 % without priority,
  100 % with). Of two instances racing for the last unit, exactly one gets it.

The bound that remains: calls an instance holds pending are not in the table, so neither
the conditional adds nor the other instances see them until its next sync, which adds them
unconditionally (they were made). A cap can therefore be passed by at most one batch per
instance, e.g. 5 SendGrid e-mails each; once it has synced past the critical level, an
instance adds call by call. Exactness would need a write per call, which is what the
batching exists to avoid (and a provider's own limit still answers 429, which the breaker
counts). An instance that dies loses its pending calls (at most a
batch); the ingestion function flushes after each cycle, so its counts reach the table
before the execution environment is frozen.

A call is counted when it is allowed, before it is made: a provider counts requests that
reach it, failed or not, and counting first is what lets the near-limit add reserve the unit.
A call the circuit breaker then refuses is given back (`release`).

When the table cannot be reached the tracker fails open: it counts in memory, allows the call
and logs; the counts are added when the table answers again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from services.caching.ttl import CacheStats
from services.clock import Clock, iso
from services.resilience.guard import CallRefusedError
from services.store.quotas import QuotaStore

LOG = logging.getLogger(__name__)

PeriodKind = Literal["minute", "hour", "day", "month"]
Level = Literal["ok", "warning", "critical"]


@dataclass(frozen=True, slots=True)
class Period:
    kind: PeriodKind
    key: str  # what the counter's key carries: "2026-11", "2026-11-05", "2026-11-05T14:03"
    start: datetime
    end: datetime  # the next period's start: when the count resets


def period_of(kind: PeriodKind, moment: datetime) -> Period:
    """The UTC period of `kind` that holds `moment`."""
    at = moment.astimezone(UTC)
    if kind == "minute":
        start = at.replace(second=0, microsecond=0)
        return Period(kind, start.strftime("%Y-%m-%dT%H:%M"), start, start + timedelta(minutes=1))
    if kind == "hour":
        start = at.replace(minute=0, second=0, microsecond=0)
        return Period(kind, start.strftime("%Y-%m-%dT%H"), start, start + timedelta(hours=1))
    if kind == "day":
        start = at.replace(hour=0, minute=0, second=0, microsecond=0)
        return Period(kind, start.strftime("%Y-%m-%d"), start, start + timedelta(days=1))
    start = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = start.replace(year=start.year + 1, month=1) if start.month == 12 else None
    end = following or start.replace(month=start.month + 1)
    return Period(kind, start.strftime("%Y-%m"), start, end)


@dataclass(frozen=True, slots=True)
class QuotaLimit:
    limit: int
    period: PeriodKind


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    warning_fraction: float = 0.5
    critical_fraction: float = 0.8
    reserve_fraction: float = 0.1
    sync_interval: timedelta = timedelta(seconds=60)
    # The most calls an instance holds uncounted in the table, as a fraction of the limit (at
    # least one call): a burst syncs every so many calls, not only once a minute.
    batch_fraction: float = 0.05
    # How long a period's counter outlives its period (for a person looking back).
    keep_after_period: timedelta = timedelta(days=7)

    def units(self, limit: int, fraction: float) -> int:
        """`fraction` of `limit` in whole calls. Rounded first, so 0.8 * 60 is 48, not the
        47.99... that binary floating point makes of it."""
        return int(round(limit * fraction, 6) // 1)

    def level(self, used: int, limit: int) -> Level:
        if used >= self.units(limit, self.critical_fraction):
            return "critical"
        if used >= self.units(limit, self.warning_fraction):
            return "warning"
        return "ok"

    def cap(self, limit: int, *, priority: bool) -> int:
        """The most calls a caller may bring the total to: all of them with priority, all
        but the reserve without."""
        return limit if priority else limit - self.units(limit, self.reserve_fraction)

    def batch(self, limit: int) -> int:
        return max(1, self.units(limit, self.batch_fraction))

    def near(self, limit: int) -> int:
        """From here on every call is its own conditional add."""
        return min(self.units(limit, self.critical_fraction), self.cap(limit, priority=False))


class QuotaExhaustedError(CallRefusedError):
    """No quota left for this call in the current period (without priority: none outside
    the reserve)."""

    def __init__(
        self,
        service: str,
        *,
        used: int,
        limit: int,
        period: Period,
        now: datetime,
        priority: bool,
    ) -> None:
        what = "quota" if priority else "quota outside the reserve for priority calls"
        super().__init__(
            service,
            f"{service} {what} is used up: {used} of {limit} calls in {period.key}; "
            f"it resets at {iso(period.end)}",
            max(0.0, (period.end - now).total_seconds()),
        )
        self.used = used
        self.limit = limit
        self.period = period
        self.priority = priority


@dataclass(frozen=True, slots=True)
class QuotaTicket:
    """One counted call: `reserved` when it was added to the table already (near the limit)."""

    service: str
    period: str
    reserved: bool


@dataclass(frozen=True, slots=True)
class QuotaView:
    service: str
    used: int
    limit: int
    period: str
    resets_at: datetime
    level: Level
    pending: int  # this instance's calls not yet in the table (included in `used`)
    synced_at: datetime | None


@dataclass
class _Counter:
    period: Period
    synced: int = 0
    pending: int = 0
    read_at: datetime | None = None  # None: the table's total not read this period
    flushed_at: datetime | None = None
    requests: int = 0  # table requests made for this counter (for the hit/miss figures)
    lock: threading.Lock = field(default_factory=threading.Lock)


class QuotaTracker:
    def __init__(
        self,
        limits: Mapping[str, QuotaLimit],
        store: QuotaStore,
        clock: Clock,
        policy: QuotaPolicy | None = None,
    ) -> None:
        self.limits = dict(limits)
        self.policy = policy or QuotaPolicy()
        self._store = store
        self._clock = clock
        self._counters: dict[str, _Counter] = {}
        self._lock = threading.Lock()
        # A hit is a call decided and counted without a table request; a miss needed one.
        self.stats = CacheStats()

    def acquire(self, service: str, *, priority: bool = False) -> QuotaTicket | None:
        """Count one call of `service`, or refuse it. None for a service without a quota."""
        quota = self.limits.get(service)
        if quota is None:
            return None
        now = self._clock()
        counter = self._counter(service, now)
        with counter.lock:
            requests = counter.requests
            try:
                return self._acquire(service, quota, counter, now, priority)
            finally:
                if counter.requests == requests:
                    self.stats.hits += 1
                else:
                    self.stats.misses += 1

    def _acquire(
        self, service: str, quota: QuotaLimit, counter: _Counter, now: datetime, priority: bool
    ) -> QuotaTicket:
        policy = self.policy
        if self._due(counter, now):
            self._sync(service, counter, now)
        cap = policy.cap(quota.limit, priority=priority)
        used = counter.synced + counter.pending
        if used >= cap:
            raise self._exhausted(service, used, quota, counter.period, now, priority)
        if used >= policy.near(quota.limit):
            return self._reserve(service, quota, counter, now, cap, priority)
        before = policy.level(used, quota.limit)
        counter.pending += 1
        crossed = policy.level(used + 1, quota.limit) != before
        full = counter.pending >= policy.batch(quota.limit)
        if crossed or full or used + 1 >= policy.near(quota.limit):
            self._sync(service, counter, now)
        return QuotaTicket(service, counter.period.key, reserved=False)

    def release(self, ticket: QuotaTicket | None) -> None:
        """Give back a counted call that was not made after all."""
        if ticket is None:
            return
        now = self._clock()
        counter = self._counter(ticket.service, now)
        with counter.lock:
            if counter.period.key != ticket.period:
                return  # its period is over; one call too many there harms nobody now
            counter.pending -= 1
            if counter.pending < 0:
                # The call was in the table already (reserved, or flushed since): take it
                # back there now, with the same atomic add.
                self._sync(ticket.service, counter, now)

    def flush(self) -> None:
        """Add every pending count to the table now (end of an invocation, ops view)."""
        now = self._clock()
        for service in list(self.limits):
            counter = self._counter(service, now)
            with counter.lock:
                if counter.pending:
                    self._sync(service, counter, now)

    def view(self, service: str, *, fresh: bool = False, write: bool = False) -> QuotaView:
        """The service's quota as this instance knows it. `fresh` reads the table's total
        first; `write` also adds this instance's pending calls (a read-only caller, such as
        the health check, must not write)."""
        quota = self.limits[service]
        now = self._clock()
        counter = self._counter(service, now)
        with counter.lock:
            stale = counter.read_at is None or now - counter.read_at >= self.policy.sync_interval
            if write and (fresh or stale or counter.pending):
                self._sync(service, counter, now)
            elif fresh or stale:
                self._read(service, counter, now)
            used = counter.synced + counter.pending
            return QuotaView(
                service=service,
                used=used,
                limit=quota.limit,
                period=counter.period.key,
                resets_at=counter.period.end,
                level=self.policy.level(used, quota.limit),
                pending=counter.pending,
                synced_at=counter.read_at,
            )

    def counters(self) -> int:
        """How many services this instance is counting (its cache's entries)."""
        with self._lock:
            return len(self._counters)

    def views(self, *, fresh: bool = False, write: bool = False) -> dict[str, QuotaView]:
        return {service: self.view(service, fresh=fresh, write=write) for service in self.limits}

    # --- internals ----------------------------------------------------------------------

    def _counter(self, service: str, now: datetime) -> _Counter:
        """This period's counter; a new period starts from zero once the last one's pending
        calls are added to the last one's counter (where they belong)."""
        period = period_of(self.limits[service].period, now)
        with self._lock:
            counter = self._counters.get(service)
            if counter is not None and counter.period.key == period.key:
                return counter
            fresh = _Counter(period, flushed_at=now)
            self._counters[service] = fresh
        if counter is not None:
            with counter.lock:
                if counter.pending:
                    self._sync(service, counter, now)
        return fresh

    def _due(self, counter: _Counter, now: datetime) -> bool:
        interval = self.policy.sync_interval
        if counter.read_at is None or now - counter.read_at >= interval:
            return True
        flushed = counter.flushed_at or now
        return counter.pending > 0 and now - flushed >= interval

    def _sync(self, service: str, counter: _Counter, now: datetime) -> None:
        """Add the pending calls and learn the total in one request (or read it, with none)."""
        if not counter.pending:
            self._read(service, counter, now)
            return
        counter.requests += 1
        try:
            total = self._store.add(
                service,
                counter.period.key,
                counter.pending,
                now=now,
                expires_at=self._expires(counter.period),
            )
        except Exception as error:
            LOG.warning("could not add %s quota counts: %s", service, type(error).__name__)
            return
        counter.synced, counter.pending = total, 0
        counter.read_at = counter.flushed_at = now

    def _read(self, service: str, counter: _Counter, now: datetime) -> None:
        counter.requests += 1
        try:
            counter.synced = self._store.get(service, counter.period.key)
        except Exception as error:
            LOG.warning("could not read the %s quota: %s", service, type(error).__name__)
            return
        counter.read_at = now

    def _reserve(
        self,
        service: str,
        quota: QuotaLimit,
        counter: _Counter,
        now: datetime,
        cap: int,
        priority: bool,
    ) -> QuotaTicket:
        if counter.pending:
            self._sync(service, counter, now)
        counter.requests += 1
        try:
            total = self._store.add_within(
                service,
                counter.period.key,
                1,
                cap=cap,
                now=now,
                expires_at=self._expires(counter.period),
            )
        except Exception as error:
            LOG.warning("could not reserve %s quota: %s", service, type(error).__name__)
            counter.pending += 1
            return QuotaTicket(service, counter.period.key, reserved=False)
        if total is None:
            self._read(service, counter, now)
            used = max(counter.synced + counter.pending, cap)
            raise self._exhausted(service, used, quota, counter.period, now, priority)
        counter.synced = total
        counter.read_at = counter.flushed_at = now
        return QuotaTicket(service, counter.period.key, reserved=True)

    def _exhausted(
        self,
        service: str,
        used: int,
        quota: QuotaLimit,
        period: Period,
        now: datetime,
        priority: bool,
    ) -> QuotaExhaustedError:
        return QuotaExhaustedError(
            service, used=used, limit=quota.limit, period=period, now=now, priority=priority
        )

    def _expires(self, period: Period) -> datetime:
        return period.end + self.policy.keep_after_period
