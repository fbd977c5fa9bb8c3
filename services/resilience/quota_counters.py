"""One quota of one provider, counted in its current UTC period and shared through the table:
`RequestQuota` counts requests (batched in memory, conditional adds near the limit; a share
of a quota is one too, sized to the share), `SymbolQuota` the distinct symbols asked for. The
design, and why it is safe, is in the docstring of `services/resilience/quota.py`; the
tracker there combines a provider's quotas.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Generic, Protocol, TypeVar

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

T = TypeVar("T")
AmountT = TypeVar("AmountT")
CapT = TypeVar("CapT")
AmountIn = TypeVar("AmountIn", contravariant=True)
CapIn = TypeVar("CapIn", contravariant=True)
AddedOut = TypeVar("AddedOut", covariant=True)


class _Unreachable:
    """The table did not answer a request (the error is logged)."""


_UNREACHABLE = _Unreachable()


class _Held(Protocol):
    """What a quota holds of one period in memory, under the holder's own lock."""

    period: Period
    lock: threading.Lock


HeldT = TypeVar("HeldT", bound=_Held)


class _CappedAdd(Protocol[AmountIn, CapIn, AddedOut]):
    """The table's conditional adds (`add_within`, `add_symbols`): what the item holds after,
    or None when the add would pass `cap`."""

    def __call__(
        self,
        service: str,
        period: str,
        amount: AmountIn,
        /,
        *,
        cap: CapIn,
        now: datetime,
        expires_at: datetime,
    ) -> AddedOut | None: ...


class _Quota(Generic[HeldT]):
    """What both kinds share: identity, limit, the table, the refusal they raise, and what
    they hold of the current period. A share of a quota has the quota's name and period, its
    own size as `limit`, and an id of its own (`sendgrid:requests_per_day@sign_in`)."""

    _held: HeldT | None = None

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

    def _ask(self, failure: str, request: Callable[[], T]) -> T | _Unreachable:
        """One table request, counted for the tracker. An error is logged as "could not
        `failure`" and answered with _UNREACHABLE: trouble with the table must not fail the
        call a quota guards, so the caller goes on from what it holds in memory."""
        self._note_request()
        try:
            return request()
        except Exception as error:
            LOG.warning("could not %s: %s", failure, type(error).__name__)
            return _UNREACHABLE

    def _add_capped(
        self,
        failure: str,
        add: _CappedAdd[AmountT, CapT, T],
        period: Period,
        amount: AmountT,
        cap: CapT,
        now: datetime,
    ) -> T | _Unreachable | None:
        """`add` on this quota's item of `period`, through `_ask`."""
        expires_at = self._expires(period)
        return self._ask(
            failure,
            partial(add, self.id, period.key, amount, cap=cap, now=now, expires_at=expires_at),
        )

    def this_period(self, now: datetime) -> HeldT:
        """What is held of this period; a new period starts afresh once what the last one
        still held unsynced is added to the last one's period (where it belongs)."""
        period = period_of(self.limit.period, now)
        with self._lock:
            held = self._held
            if held is not None and held.period.key == period.key:
                return held
            self._held = fresh = self._start(period, now)
        if held is not None:
            with held.lock:
                self._settle(held, now)
        return fresh

    def flush(self, now: datetime) -> None:
        held = self.this_period(now)
        with held.lock:
            self._settle(held, now)

    @property
    def counting(self) -> bool:
        return self._held is not None

    def _start(self, period: Period, now: datetime) -> HeldT:
        """What a new period starts with."""
        raise NotImplementedError

    def _settle(self, held: HeldT, now: datetime) -> None:
        """Add to the table what `held` counted and the table does not have yet."""
        raise NotImplementedError


@dataclass
class _Counter:
    period: Period
    synced: int = 0
    pending: int = 0
    read_at: datetime | None = None  # None: the table's total not read this period
    flushed_at: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class RequestQuota(_Quota[_Counter]):
    """Requests per period: the estimate `synced + pending`, batched adds far from the
    limit, a conditional add per call near it. `caps` says how far calls may bring it (by
    default the policy's: all of it with priority, all but the reserve without); `exact`
    makes every call its own conditional add, wherever the count stands (a share: small,
    and it must never be passed)."""

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
        counter = self.this_period(now)
        with counter.lock:
            if self._due(counter, now):
                self._sync(counter, now)
            used = counter.synced + counter.pending
            if used + units > self.caps.of(priority=priority):
                return self._exhausted(used, counter.period, now, priority)
            return None

    def acquire(self, units: int, priority: bool, now: datetime) -> Counted:
        """Count `units` requests, or refuse them (`QuotaExhaustedError`)."""
        counter = self.this_period(now)
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
        counter = self.this_period(now)
        with counter.lock:
            self._count(counter, counter.synced + counter.pending, units, now)
            return Counted(self.id, counter.period.key, units, reserved=False)

    def release(self, counted: Counted, now: datetime) -> None:
        counter = self.this_period(now)
        with counter.lock:
            if counter.period.key != counted.period:
                return  # its period is over; a few too many there harm nobody now
            counter.pending -= counted.units
            if counter.pending < 0:
                # The units were in the table already (reserved, or flushed since): take
                # them back there now, with the same atomic add.
                self._sync(counter, now)

    def view(self, now: datetime, *, fresh: bool, write: bool) -> QuotaView:
        counter = self.this_period(now)
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

    # --- internals ----------------------------------------------------------------------

    def _start(self, period: Period, now: datetime) -> _Counter:
        return _Counter(period, flushed_at=now)

    def _settle(self, held: _Counter, now: datetime) -> None:
        if held.pending:
            self._sync(held, now)

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
        total = self._ask(
            f"add {self.id} quota counts",
            partial(
                self._store.add,
                self.id,
                counter.period.key,
                counter.pending,
                now=now,
                expires_at=self._expires(counter.period),
            ),
        )
        if isinstance(total, _Unreachable):
            return
        counter.synced, counter.pending = total, 0
        counter.read_at = counter.flushed_at = now

    def _read(self, counter: _Counter, now: datetime) -> None:
        total = self._ask(
            f"read the {self.id} quota", partial(self._store.get, self.id, counter.period.key)
        )
        if isinstance(total, _Unreachable):
            return
        counter.synced, counter.read_at = total, now

    def _reserve(
        self, counter: _Counter, units: int, now: datetime, cap: int, priority: bool
    ) -> Counted:
        if counter.pending:
            self._sync(counter, now)
        total = self._add_capped(
            f"reserve {self.id} quota", self._store.add_within, counter.period, units, cap, now
        )
        if isinstance(total, _Unreachable):
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


class SymbolQuota(_Quota[_SymbolSet]):
    """Distinct symbols per period: a symbol asked for once this period costs nothing again;
    a new one is added to the table's set before the call is made, with a condition that
    keeps the set within the cap."""

    def refusal(
        self, symbols: frozenset[str], priority: bool, now: datetime
    ) -> QuotaExhaustedError | None:
        held = self.this_period(now)
        with held.lock:
            if held.read_at is None:
                self._read(held, now)
            new = symbols - held.known
            if new and len(held.known) + len(new) > self._cap(priority):
                return self._exhausted(len(held.known), held.period, now, priority)
            return None

    def acquire(self, symbols: frozenset[str], priority: bool, now: datetime) -> Counted | None:
        """Add the symbols new this period, or refuse them all; None when none is new."""
        held = self.this_period(now)
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

    def view(self, now: datetime, *, fresh: bool, write: bool) -> QuotaView:
        held = self.this_period(now)
        with held.lock:
            if write:
                self._add_pending(held, now)
            stale = held.read_at is None or now - held.read_at >= self.policy.sync_interval
            if fresh or stale:
                self._read(held, now)
            return self._view(len(held.known), len(held.pending), held.period, held.read_at)

    # --- internals ----------------------------------------------------------------------

    def _start(self, period: Period, now: datetime) -> _SymbolSet:
        return _SymbolSet(period)

    def _settle(self, held: _SymbolSet, now: datetime) -> None:
        self._add_pending(held, now)

    def _cap(self, priority: bool) -> int:
        return self.policy.cap(self.limit.limit, priority=priority)

    def _add(self, held: _SymbolSet, new: frozenset[str], cap: int, now: datetime) -> bool:
        """Add `new` within `cap`: True when added (or counted here, the table unreachable),
        False when the table's set had grown too much for the condition."""
        self._add_pending(held, now)
        after = self._add_symbols(held, new, cap, now)
        if isinstance(after, _Unreachable):
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
        after = self._add_symbols(held, held.pending, None, now)
        if isinstance(after, _Unreachable):
            return
        held.pending = set()
        held.known = set(after or ())
        held.read_at = now

    def _add_symbols(
        self, held: _SymbolSet, symbols: Collection[str], cap: int | None, now: datetime
    ) -> frozenset[str] | _Unreachable | None:
        """The set after the add, None when refused by `cap`, or _UNREACHABLE."""
        return self._add_capped(
            f"add {self.id} symbols", self._store.add_symbols, held.period, symbols, cap, now
        )

    def _read(self, held: _SymbolSet, now: datetime) -> None:
        stored = self._ask(
            f"read the {self.id} symbols", partial(self._store.symbols, self.id, held.period.key)
        )
        if isinstance(stored, _Unreachable):
            return
        held.known = set(stored) | held.pending
        held.read_at = now
