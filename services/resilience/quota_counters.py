"""One quota of one provider, counted in its current UTC period and shared through the table:
`RequestQuota` counts requests (batched in memory, conditional adds near the limit; a share
of a quota is one too, sized to the share), `SymbolQuota` the distinct symbols asked for. The
design, and why it is safe, is in the docstring of `services/resilience/quota.py`; the
tracker there combines a provider's quotas.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from services.resilience.quota_rules import (
    Caps,
    Counted,
    Period,
    QuotaExhaustedError,
    QuotaLimit,
    QuotaPolicy,
    QuotaView,
    period_of,
)
from services.store.quotas import QuotaStore

LOG = logging.getLogger(__name__)

# How often a symbol add refused by its condition (another instance added symbols meanwhile)
# is tried again on the set read back, before the call is refused.
SYMBOL_ADD_ATTEMPTS = 3


class _Quota:
    """What both kinds share: identity, limit, the table, and the refusal they raise. A
    share of a quota has the quota's name and period, its own size as `limit`, and an id of
    its own (`sendgrid:requests_per_day@sign_in`)."""

    def __init__(
        self,
        service: str,
        limit: QuotaLimit,
        store: QuotaStore,
        policy: QuotaPolicy,
        note_request: Callable[[], None],
        *,
        share: str = "",
    ) -> None:
        self.service = service
        self.limit = limit
        self.share = share
        self.name = f"{limit.quota_name}@{share}" if share else limit.quota_name
        self.id = f"{service}:{self.name}"
        self._store = store
        self.policy = policy
        # Tells the tracker a table request was made (its hit and miss figures).
        self._note_request = note_request
        self._lock = threading.Lock()

    def _exhausted(
        self, used: int, period: Period, now: datetime, priority: bool
    ) -> QuotaExhaustedError:
        return QuotaExhaustedError(
            self.service,
            used=used,
            limit=self.limit.limit,
            period=period,
            now=now,
            priority=priority,
            quota=self.limit.quota_name,
            counts=self.limit.counts,
            share=self.share,
        )

    def _view(
        self, used: int, pending: int, period: Period, synced_at: datetime | None
    ) -> QuotaView:
        return QuotaView(
            service=self.service,
            name=self.name,
            counts=self.limit.counts,
            per=self.limit.period,
            used=used,
            limit=self.limit.limit,
            period=period.key,
            resets_at=period.end,
            level=self.policy.level(used, self.limit.limit),
            pending=pending,
            synced_at=synced_at,
        )

    def _expires(self, period: Period) -> datetime:
        return period.end + self.policy.keep_after_period


@dataclass
class _Counter:
    period: Period
    synced: int = 0
    pending: int = 0
    read_at: datetime | None = None  # None: the table's total not read this period
    flushed_at: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class RequestQuota(_Quota):
    """Requests per period: the estimate `synced + pending`, batched adds far from the
    limit, a conditional add per call near it. `caps` says how far calls may bring it (by
    default the policy's: all of it with priority, all but the reserve without); `exact`
    makes every call its own conditional add, wherever the count stands (a share: small,
    and it must never be passed)."""

    _counter: _Counter | None = None

    def __init__(
        self,
        service: str,
        limit: QuotaLimit,
        store: QuotaStore,
        policy: QuotaPolicy,
        note_request: Callable[[], None],
        *,
        share: str = "",
        caps: Caps | None = None,
        exact: bool = False,
    ) -> None:
        super().__init__(service, limit, store, policy, note_request, share=share)
        self.caps = caps or policy.caps(limit.limit)
        self._exact = exact
        self._near = 0 if exact else policy.near(limit.limit, self.caps)

    def refusal(self, units: int, priority: bool, now: datetime) -> QuotaExhaustedError | None:
        """The refusal `units` more would meet on this instance's estimate, or None."""
        counter = self.counter(now)
        with counter.lock:
            if self._due(counter, now):
                self._sync(counter, now)
            used = counter.synced + counter.pending
            if used + units > self.caps.of(priority=priority):
                return self._exhausted(used, counter.period, now, priority)
            return None

    def acquire(self, units: int, priority: bool, now: datetime) -> Counted:
        """Count `units` requests, or refuse them (`QuotaExhaustedError`)."""
        counter = self.counter(now)
        with counter.lock:
            if self._due(counter, now):
                self._sync(counter, now)
            cap = self.caps.of(priority=priority)
            used = counter.synced + counter.pending
            if used + units > cap:
                raise self._exhausted(used, counter.period, now, priority)
            if used + units > self._near:
                return self._reserve(counter, units, now, cap, priority)
            self._count(counter, used, units, now)
            return Counted(self.id, counter.period.key, units, reserved=False)

    def add(self, units: int, now: datetime) -> Counted:
        """Count requests already made (or decided by another counter): never refused,
        synced as any other count."""
        counter = self.counter(now)
        with counter.lock:
            self._count(counter, counter.synced + counter.pending, units, now)
            return Counted(self.id, counter.period.key, units, reserved=False)

    def release(self, counted: Counted, now: datetime) -> None:
        counter = self.counter(now)
        with counter.lock:
            if counter.period.key != counted.period:
                return  # its period is over; a few too many there harm nobody now
            counter.pending -= counted.units
            if counter.pending < 0:
                # The units were in the table already (reserved, or flushed since): take
                # them back there now, with the same atomic add.
                self._sync(counter, now)

    def flush(self, now: datetime) -> None:
        counter = self.counter(now)
        with counter.lock:
            if counter.pending:
                self._sync(counter, now)

    def view(self, now: datetime, *, fresh: bool, write: bool) -> QuotaView:
        counter = self.counter(now)
        with counter.lock:
            interval = self.policy.sync_interval
            stale = counter.read_at is None or now - counter.read_at >= interval
            # A period shorter than the interval (a second) is over before a copy would be
            # read again: only a fresh view asks, so a health probe does not read each time.
            stale = stale and counter.period.end - counter.period.start >= interval
            if write and (fresh or stale or counter.pending):
                self._sync(counter, now)
            elif fresh or stale:
                self._read(counter, now)
            used = counter.synced + counter.pending
            return self._view(used, counter.pending, counter.period, counter.read_at)

    def counter(self, now: datetime) -> _Counter:
        """This period's counter; a new period starts from zero once the last one's pending
        counts are added to the last one's counter (where they belong)."""
        period = period_of(self.limit.period, now)
        with self._lock:
            counter = self._counter
            if counter is not None and counter.period.key == period.key:
                return counter
            self._counter = fresh = _Counter(period, flushed_at=now)
        if counter is not None:
            with counter.lock:
                if counter.pending:
                    self._sync(counter, now)
        return fresh

    @property
    def counting(self) -> bool:
        return self._counter is not None

    # --- internals ----------------------------------------------------------------------

    def _count(self, counter: _Counter, used: int, units: int, now: datetime) -> None:
        """Hold `units` pending; add them at once on a level crossed, a full batch, or the
        approach of the limit (from where every call is its own add)."""
        policy, limit = self.policy, self.limit.limit
        counter.pending += units
        crossed = policy.level(used + units, limit) != policy.level(used, limit)
        full = counter.pending >= policy.batch(limit)
        if crossed or full or used + units >= self._near:
            self._sync(counter, now)

    def _due(self, counter: _Counter, now: datetime) -> bool:
        interval = self.policy.sync_interval
        if counter.read_at is None or now - counter.read_at >= interval:
            return True
        flushed = counter.flushed_at or now
        return counter.pending > 0 and now - flushed >= interval

    def _sync(self, counter: _Counter, now: datetime) -> None:
        """Add the pending counts and learn the total in one request (or read it, with none)."""
        if not counter.pending:
            self._read(counter, now)
            return
        self._note_request()
        try:
            total = self._store.add(
                self.id,
                counter.period.key,
                counter.pending,
                now=now,
                expires_at=self._expires(counter.period),
            )
        except Exception as error:
            LOG.warning("could not add %s quota counts: %s", self.id, type(error).__name__)
            return
        counter.synced, counter.pending = total, 0
        counter.read_at = counter.flushed_at = now

    def _read(self, counter: _Counter, now: datetime) -> None:
        self._note_request()
        try:
            counter.synced = self._store.get(self.id, counter.period.key)
        except Exception as error:
            LOG.warning("could not read the %s quota: %s", self.id, type(error).__name__)
            return
        counter.read_at = now

    def _reserve(
        self, counter: _Counter, units: int, now: datetime, cap: int, priority: bool
    ) -> Counted:
        if counter.pending:
            self._sync(counter, now)
        self._note_request()
        try:
            total = self._store.add_within(
                self.id,
                counter.period.key,
                units,
                cap=cap,
                now=now,
                expires_at=self._expires(counter.period),
            )
        except Exception as error:
            LOG.warning("could not reserve %s quota: %s", self.id, type(error).__name__)
            counter.pending += units
            return Counted(self.id, counter.period.key, units, reserved=False)
        if total is None:
            self._read(counter, now)
            used = max(counter.synced + counter.pending, cap - units + 1)
            raise self._exhausted(used, counter.period, now, priority)
        counter.synced = total
        counter.read_at = counter.flushed_at = now
        return Counted(self.id, counter.period.key, units, reserved=True)


@dataclass
class _SymbolSet:
    period: Period
    known: set[str] = field(default_factory=set)  # this period's symbols, as far as known
    pending: set[str] = field(default_factory=set)  # counted here, not yet in the table
    read_at: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class SymbolQuota(_Quota):
    """Distinct symbols per period: a symbol asked for once this period costs nothing again;
    a new one is added to the table's set before the call is made, with a condition that
    keeps the set within the cap."""

    _set: _SymbolSet | None = None

    def refusal(
        self, symbols: frozenset[str], priority: bool, now: datetime
    ) -> QuotaExhaustedError | None:
        held = self.symbol_set(now)
        with held.lock:
            if held.read_at is None:
                self._read(held, now)
            new = symbols - held.known
            if new and len(held.known) + len(new) > self._cap(priority):
                return self._exhausted(len(held.known), held.period, now, priority)
            return None

    def acquire(self, symbols: frozenset[str], priority: bool, now: datetime) -> Counted | None:
        """Add the symbols new this period, or refuse them all; None when none is new."""
        held = self.symbol_set(now)
        with held.lock:
            if held.read_at is None:
                self._read(held, now)
            cap = self._cap(priority)
            for _ in range(SYMBOL_ADD_ATTEMPTS):
                new = symbols - held.known
                if not new:
                    return None
                if len(held.known) + len(new) > cap:
                    break
                if self._add(held, new, cap, now):
                    return Counted(self.id, held.period.key, len(new), reserved=True)
                self._read(held, now)  # another instance added symbols: count again
            raise self._exhausted(len(held.known), held.period, now, priority)

    def flush(self, now: datetime) -> None:
        held = self.symbol_set(now)
        with held.lock:
            self._add_pending(held, now)

    def view(self, now: datetime, *, fresh: bool, write: bool) -> QuotaView:
        held = self.symbol_set(now)
        with held.lock:
            if write:
                self._add_pending(held, now)
            stale = held.read_at is None or now - held.read_at >= self.policy.sync_interval
            if fresh or stale:
                self._read(held, now)
            return self._view(len(held.known), len(held.pending), held.period, held.read_at)

    def symbol_set(self, now: datetime) -> _SymbolSet:
        """This period's set; the last period's symbols still pending go to the last one's."""
        period = period_of(self.limit.period, now)
        with self._lock:
            held = self._set
            if held is not None and held.period.key == period.key:
                return held
            self._set = fresh = _SymbolSet(period)
        if held is not None:
            with held.lock:
                self._add_pending(held, now)
        return fresh

    @property
    def counting(self) -> bool:
        return self._set is not None

    # --- internals ----------------------------------------------------------------------

    def _cap(self, priority: bool) -> int:
        return self.policy.cap(self.limit.limit, priority=priority)

    def _add(self, held: _SymbolSet, new: frozenset[str], cap: int, now: datetime) -> bool:
        """Add `new` within `cap`: True when added (or counted here, the table unreachable),
        False when the table's set had grown too much for the condition."""
        self._add_pending(held, now)
        self._note_request()
        try:
            after = self._store.add_symbols(
                self.id,
                held.period.key,
                new,
                cap=cap,
                now=now,
                expires_at=self._expires(held.period),
            )
        except Exception as error:
            LOG.warning("could not add %s symbols: %s", self.id, type(error).__name__)
            held.known |= new
            held.pending |= new
            return True
        if after is None:
            return False
        held.known = set(after) | held.pending
        held.read_at = now
        return True

    def _add_pending(self, held: _SymbolSet, now: datetime) -> None:
        """Symbols counted while the table was unreachable: they were asked for, so they
        are added without a cap."""
        if not held.pending:
            return
        self._note_request()
        try:
            after = self._store.add_symbols(
                self.id,
                held.period.key,
                held.pending,
                cap=None,
                now=now,
                expires_at=self._expires(held.period),
            )
        except Exception as error:
            LOG.warning("could not add %s symbols: %s", self.id, type(error).__name__)
            return
        held.pending = set()
        held.known = set(after or ())
        held.read_at = now

    def _read(self, held: _SymbolSet, now: datetime) -> None:
        self._note_request()
        try:
            stored = self._store.symbols(self.id, held.period.key)
        except Exception as error:
            LOG.warning("could not read the %s symbols: %s", self.id, type(error).__name__)
            return
        held.known = set(stored) | held.pending
        held.read_at = now
