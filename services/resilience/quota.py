"""Quota tracking per external service: each of the provider's limits in its own UTC period,
shared through the table.

A provider has several quotas (`QuotaLimit`): its plan's (Tiingo free: 50 requests an hour,
1,000 a day and 500 distinct symbols a month; Finnhub: per second and per minute; SendGrid:
per day: `services/adapters/plans.py`) and, when set, an own budget on top of them
(`*_QUOTA_LIMIT` a `*_QUOTA_PERIOD`). Each is counted from the start of its UTC second,
minute, hour, day or month, under its own id (`tiingo:requests_per_hour`). A call is allowed
only if every quota of its provider allows it, so the tightest decides, and it is counted in
all of them; when one refuses, what the others counted is given back.

A unit is one HTTP request, as the providers count them: `acquire(service, units=n)` counts
the n requests a caller knows it will make (Finnhub's company news: one per ticker), and
`count(service, n)` the requests it made beyond those (the further pages of a paginated
answer), never refused since they were made. Every quota is checked on its estimate before
any counts the call: a refused call counts nothing anywhere (and needs no give-back), and its
`Retry-After` is the latest reset among the quotas that refuse it. A call that declares more
units than a quota's cap (Finnhub news for 40 tickers against 27 of 30 a second) is always
refused by it: such a caller splits its requests into several calls.

Levels: `ok`, then `warning` from 50 % used, `critical` from 80 %. The last 10 % is a
reserve: a call without priority is refused (`QuotaExhaustedError`, naming the quota) once
90 % is used, a priority call (something a person is waiting for) only at 100 %.

How "used" of a request quota is known without a table read per call. Each instance keeps,
per quota, the period's total as last read from the table (`synced`) and the units it
counted since that it has not yet added (`pending`). Its estimate of "used" is
`synced + pending`. The estimate can only be low, never high: other instances' calls since
the last sync are missing from it. So:

- a refusal made on the estimate is always right (the true total is at least as high);
- far from the limit, calls are only counted in memory, and the pending count is added with
  one atomic `ADD` (which returns the new total: add and read in one request) on the first
  call after `sync_interval` (60 s), when a batch of units is pending (5 % of the limit, so
  a burst does not wait for the minute), at once when the estimate crosses a level (so a
  warning or critical level is visible to everyone without waiting), and by `flush()`;
- near the limit (from the critical level on), batching would let instances that each see
  room spend the same last units, so every call there is its own conditional add: the add
  happens only if the table's total stays within the caller's cap (90 % without priority,
  100 % with). Of two instances racing for the last unit, exactly one gets it.

The bound that remains: units an instance holds pending are not in the table, so neither
the conditional adds nor the other instances see them until its next sync, which adds them
unconditionally (they were spent). A cap can therefore be passed by at most one batch per
instance (units counted afterwards with `count` can pass it too: those requests were made).
Exactness would need a write per call, which is what the batching exists to avoid (and a
provider's own limit still answers 429, which the breaker counts). A batch is at least one
unit, so a small limit (Finnhub's 30 a second) is a write per call. An instance that dies
loses its pending units (at most a batch); the ingestion function flushes after each cycle,
so its counts reach the table before the execution environment is frozen.

Distinct symbols (`counts="symbols"`): a string set per quota and period in the table. Each
instance keeps a copy of the set (read at its first call of the period, refreshed by every
add); a call's symbols already in it cost nothing and no request. New ones are added, before
the call is made, with an atomic `ADD` conditional on the set's size leaving room for all of
them; when another instance grew the set meanwhile, the set read back decides again. A call
whose new symbols would pass the cap is refused before it is made. The symbol quota is
checked and counted after the request quotas, so a request quota's refusal never leaves a
symbol counted; symbols of a call the circuit breaker refuses afterwards stay counted, since
another instance may already have seen them counted and asked for them.

A call is counted when it is allowed, before it is made: a provider counts requests that
reach it, failed or not, and counting first is what lets the near-limit add reserve the
unit. A call the circuit breaker then refuses is given back (`release`). A call that fails
part way stays counted in full: the safe side of a provider's count.

When the table cannot be reached the tracker fails open: it counts in memory, allows the call
and logs; the counts (and symbols) are added when the table answers again.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.caching.ttl import CacheStats
from services.clock import Clock
from services.resilience.quota_counters import RequestQuota, SymbolQuota
from services.resilience.quota_rules import (
    PERIOD_LENGTH,
    Counted,
    Level,
    Period,
    PeriodKind,
    QuotaExhaustedError,
    QuotaLimit,
    QuotaPolicy,
    QuotaView,
    period_of,
    tightest_first,
)
from services.store.quotas import QuotaStore

__all__ = [
    "Counted",
    "Level",
    "Period",
    "PeriodKind",
    "QuotaExhaustedError",
    "QuotaLimit",
    "QuotaPolicy",
    "QuotaTicket",
    "QuotaTracker",
    "QuotaView",
    "period_of",
    "tightest_first",
]


@dataclass(frozen=True, slots=True)
class QuotaTicket:
    """One counted call: what each of its provider's quotas counted."""

    service: str
    counted: tuple[Counted, ...]

    @property
    def reserved(self) -> bool:
        """Whether any quota added it to the table already (near its limit)."""
        return any(c.reserved for c in self.counted)


@dataclass(frozen=True, slots=True)
class _Quotas:
    """A provider's quotas in checking order: requests longest period first, then symbols."""

    requests: tuple[RequestQuota, ...]
    symbols: tuple[SymbolQuota, ...]

    @property
    def every(self) -> tuple[RequestQuota | SymbolQuota, ...]:
        return (*self.requests, *self.symbols)


class QuotaTracker:
    def __init__(
        self,
        limits: Mapping[str, QuotaLimit | Sequence[QuotaLimit]],
        store: QuotaStore,
        clock: Clock,
        policy: QuotaPolicy | None = None,
    ) -> None:
        """`limits`: per service, its quota or quotas (their names must differ)."""
        self.limits = {
            service: (quota,) if isinstance(quota, QuotaLimit) else tuple(quota)
            for service, quota in limits.items()
        }
        self.policy = policy or QuotaPolicy()
        self._clock = clock
        self._requests = threading.local()
        self._quotas = {
            service: self._build(service, quotas, store) for service, quotas in self.limits.items()
        }
        # A hit is a call decided and counted without a table request; a miss needed one.
        self.stats = CacheStats()

    def acquire(
        self,
        service: str,
        *,
        priority: bool = False,
        units: int = 1,
        symbols: Collection[str] = (),
    ) -> QuotaTicket | None:
        """Count `units` requests of `service` (and the `symbols` new this period in its
        symbol quotas), or refuse them all. None for a service without a quota."""
        if units < 0:
            raise ValueError(f"units must not be negative, not {units}")
        quotas = self._quotas.get(service)
        if quotas is None:
            return None
        asked = frozenset(s.strip().upper() for s in symbols if s.strip())
        now = self._clock()
        self._requests.made = 0
        try:
            refusals = [q.refusal(units, priority, now) for q in quotas.requests if units]
            refusals += [q.refusal(asked, priority, now) for q in quotas.symbols if asked]
            refused = [r for r in refusals if r is not None]
            if refused:
                raise max(refused, key=lambda r: r.period.end)
            return QuotaTicket(service, self._count_all(quotas, units, asked, priority, now))
        finally:
            if self._requests.made:
                self.stats.misses += 1
            else:
                self.stats.hits += 1

    def count(self, service: str, units: int) -> None:
        """Count requests already made beyond those acquired: never refused."""
        quotas = self._quotas.get(service)
        if quotas is None or units <= 0:
            return
        now = self._clock()
        for quota in quotas.requests:
            quota.add(units, now)

    def release(self, ticket: QuotaTicket | None) -> None:
        """Give back a counted call that was not made after all (its request counts; the
        symbols stay, see the module's docstring)."""
        if ticket is None:
            return
        now = self._clock()
        by_id = {q.id: q for q in self._quotas[ticket.service].requests}
        for counted in ticket.counted:
            quota = by_id.get(counted.quota)
            if quota is not None:
                quota.release(counted, now)

    def flush(self) -> None:
        """Add every pending count to the table now (end of an invocation, ops view)."""
        now = self._clock()
        for quotas in self._quotas.values():
            for quota in quotas.every:
                quota.flush(now)

    def quota_views(
        self, service: str, *, fresh: bool = False, write: bool = False
    ) -> list[QuotaView]:
        """Each of the service's quotas as this instance knows it, tightest first. `fresh`
        reads the table's totals first; `write` also adds this instance's pending counts (a
        read-only caller, such as the health check, must not write)."""
        now = self._clock()
        found = [q.view(now, fresh=fresh, write=write) for q in self._quotas[service].every]
        return tightest_first(found)

    def view(self, service: str, *, fresh: bool = False, write: bool = False) -> QuotaView:
        """The service's tightest quota (`quota_views`)."""
        return self.quota_views(service, fresh=fresh, write=write)[0]

    def views(self, *, fresh: bool = False, write: bool = False) -> dict[str, QuotaView]:
        """Each service's tightest quota."""
        return {s: self.view(s, fresh=fresh, write=write) for s in self._quotas if self.limits[s]}

    def all_views(self, *, fresh: bool = False, write: bool = False) -> dict[str, list[QuotaView]]:
        """Every quota of every service, each service's tightest first."""
        return {
            s: self.quota_views(s, fresh=fresh, write=write) for s in self._quotas if self.limits[s]
        }

    def counters(self) -> int:
        """How many quotas this instance is counting (its cache's entries)."""
        return sum(1 for quotas in self._quotas.values() for q in quotas.every if q.counting)

    # --- internals ----------------------------------------------------------------------

    def _build(self, service: str, limits: Sequence[QuotaLimit], store: QuotaStore) -> _Quotas:
        names = [limit.quota_name for limit in limits]
        if len(set(names)) != len(names):
            raise ValueError(f"{service} has two quotas of one name: {names}")
        ordered = sorted(limits, key=lambda limit: -PERIOD_LENGTH[limit.period])
        note = self._note_request
        return _Quotas(
            requests=tuple(
                RequestQuota(service, limit, store, self.policy, note)
                for limit in ordered
                if limit.counts == "requests"
            ),
            symbols=tuple(
                SymbolQuota(service, limit, store, self.policy, note)
                for limit in ordered
                if limit.counts == "symbols"
            ),
        )

    def _count_all(
        self, quotas: _Quotas, units: int, asked: frozenset[str], priority: bool, now: datetime
    ) -> tuple[Counted, ...]:
        """Count the call in every quota; if one refuses (the table knew more than the
        estimates), give back what the others counted before raising."""
        counted: list[Counted] = []
        try:
            for request_quota in quotas.requests if units else ():
                counted.append(request_quota.acquire(units, priority, now))
            for symbol_quota in quotas.symbols if asked else ():
                added = symbol_quota.acquire(asked, priority, now)
                if added is not None:
                    counted.append(added)
        except QuotaExhaustedError:
            by_id = {q.id: q for q in quotas.requests}
            for done in counted:
                if done.quota in by_id:
                    by_id[done.quota].release(done, now)
            raise
        return tuple(counted)

    def _note_request(self) -> None:
        self._requests.made = getattr(self._requests, "made", 0) + 1
