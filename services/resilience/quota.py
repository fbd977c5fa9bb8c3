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

Shares: a quota divided between kinds of callers. A provider's request quotas can be divided
into named shares (`shares={"sendgrid": {"sign_in": 0.10}}`: a tenth of each SendGrid request
quota for sign-in e-mails) and the rest. A call declares the share it belongs to
(`acquire(..., share="sign_in")`); one that declares none, or one this provider does not
have, counts in the rest. Each part is a counter of its own (`sendgrid:requests_per_day@
sign_in`, `...@rest`) that decides alone whether the call may happen; the quota's own counter
(`sendgrid:requests_per_day`, what every view shows) still counts every call, but refuses
none: the parts' sizes add up to the limit. So:

- a share's callers never pass the share, however much of the rest is free: sign-in e-mails
  that anyone can ask for never spend more than their tenth of SendGrid's day;
- the rest does not see the shares' calls: alerts and digests are allowed while they have
  used less than the rest, however many sign-in e-mails were sent;
- the reserve for priority calls stays, in each part: a share's last 10 % is for priority
  calls (a person waiting uses their share first), and in the rest, which the shares already
  hold back from, calls without priority stop at `limit - max(shares, reserve)` and priority
  calls at `limit - shares`. Without shares the rest is the whole quota, as above.

A share's counter is exact: every call is its own conditional add (a share is small, its
callers are ones anybody can cause, and it must never be passed). The rest batches like any
quota. A share is at least one unit. Symbol quotas are not divided: a symbol asked for once
costs every caller nothing afterwards, so there is nothing to keep apart.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from services.caching.ttl import CacheStats
from services.clock import Clock
from services.resilience.quota_counters import RequestQuota, SymbolQuota
from services.resilience.quota_rules import (
    PERIOD_LENGTH,
    REST,
    Caps,
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
    "REST",
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
class _Requests:
    """One request quota: its own counter and, when it is divided, a counter per share and
    one for the rest."""

    whole: RequestQuota
    parts: Mapping[str, RequestQuota]

    def deciding(self, share: str | None) -> RequestQuota:
        """The counter that decides a call of `share` (the rest's for an unknown share)."""
        if not self.parts:
            return self.whole
        return self.parts.get(share or REST) or self.parts[REST]

    @property
    def counters(self) -> tuple[RequestQuota, ...]:
        return (self.whole, *self.parts.values())


@dataclass(frozen=True, slots=True)
class _Quotas:
    """A provider's quotas in checking order: requests longest period first, then symbols."""

    requests: tuple[_Requests, ...]
    symbols: tuple[SymbolQuota, ...]

    @property
    def every(self) -> tuple[RequestQuota | SymbolQuota, ...]:
        return (*(q.whole for q in self.requests), *self.symbols)

    @property
    def request_counters(self) -> dict[str, RequestQuota]:
        """Every request counter (wholes and parts) by id."""
        return {c.id: c for q in self.requests for c in q.counters}


class QuotaTracker:
    def __init__(
        self,
        limits: Mapping[str, QuotaLimit | Sequence[QuotaLimit]],
        store: QuotaStore,
        clock: Clock,
        policy: QuotaPolicy | None = None,
        shares: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        """`limits`: per service, its quota or quotas (their names must differ). `shares`:
        per service, the fraction of each of its request quotas kept for each named share
        (a fraction of 0 means no such share: its calls count in the rest)."""
        self.limits = {
            service: (quota,) if isinstance(quota, QuotaLimit) else tuple(quota)
            for service, quota in limits.items()
        }
        self.shares = {service: dict(named) for service, named in (shares or {}).items()}
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
        share: str | None = None,
    ) -> QuotaTicket | None:
        """Count `units` requests of `service` (and the `symbols` new this period in its
        symbol quotas), or refuse them all. `share`: the share of the provider's quotas the
        call belongs to (see the module's docstring). None for a service without a quota."""
        if units < 0:
            raise ValueError(f"units must not be negative, not {units}")
        quotas = self._quotas.get(service)
        if quotas is None:
            return None
        asked = frozenset(s.strip().upper() for s in symbols if s.strip())
        now = self._clock()
        self._requests.made = 0
        try:
            refusals = [
                q.deciding(share).refusal(units, priority, now) for q in quotas.requests if units
            ]
            refusals += [q.refusal(asked, priority, now) for q in quotas.symbols if asked]
            refused = [r for r in refusals if r is not None]
            if refused:
                raise max(refused, key=lambda r: r.period.end)
            counted = self._count_all(quotas, units, asked, priority, share, now)
            return QuotaTicket(service, counted)
        finally:
            if self._requests.made:
                self.stats.misses += 1
            else:
                self.stats.hits += 1

    def count(self, service: str, units: int, *, share: str | None = None) -> None:
        """Count requests already made beyond those acquired: never refused."""
        quotas = self._quotas.get(service)
        if quotas is None or units <= 0:
            return
        now = self._clock()
        for quota in quotas.requests:
            quota.whole.add(units, now)
            if quota.parts:
                quota.deciding(share).add(units, now)

    def release(self, ticket: QuotaTicket | None) -> None:
        """Give back a counted call that was not made after all (its request counts; the
        symbols stay, see the module's docstring)."""
        if ticket is None:
            return
        now = self._clock()
        by_id = self._quotas[ticket.service].request_counters
        for counted in ticket.counted:
            quota = by_id.get(counted.quota)
            if quota is not None:
                quota.release(counted, now)

    def flush(self) -> None:
        """Add every pending count to the table now (end of an invocation, ops view)."""
        now = self._clock()
        for quotas in self._quotas.values():
            for counter in quotas.request_counters.values():
                counter.flush(now)
            for symbol_quota in quotas.symbols:
                symbol_quota.flush(now)

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

    def share_views(self, service: str, *, fresh: bool = False) -> list[QuotaView]:
        """The parts of the service's divided request quotas (`requests_per_day@sign_in`,
        `...@rest`), as this instance knows them; empty when none is divided."""
        now = self._clock()
        return [
            part.view(now, fresh=fresh, write=False)
            for quota in self._quotas[service].requests
            for part in quota.parts.values()
        ]

    def counters(self) -> int:
        """How many counters this instance is keeping (its cache's entries)."""
        kept = 0
        for quotas in self._quotas.values():
            kept += sum(1 for c in quotas.request_counters.values() if c.counting)
            kept += sum(1 for q in quotas.symbols if q.counting)
        return kept

    # --- internals ----------------------------------------------------------------------

    def _build(self, service: str, limits: Sequence[QuotaLimit], store: QuotaStore) -> _Quotas:
        names = [limit.quota_name for limit in limits]
        if len(set(names)) != len(names):
            raise ValueError(f"{service} has two quotas of one name: {names}")
        ordered = sorted(limits, key=lambda limit: -PERIOD_LENGTH[limit.period])
        fractions = self.shares.get(service, {})
        if (
            REST in fractions
            or sum(fractions.values()) > 1
            or min(fractions.values(), default=0) < 0
        ):
            raise ValueError(
                f"{service}'s shares must be named other than {REST!r} and add "
                f"up to at most the whole quota: {fractions}"
            )
        return _Quotas(
            requests=tuple(
                self._divided(service, limit, store, fractions)
                for limit in ordered
                if limit.counts == "requests"
            ),
            symbols=tuple(
                SymbolQuota(service, limit, store, self.policy, self._note_request)
                for limit in ordered
                if limit.counts == "symbols"
            ),
        )

    def _divided(
        self, service: str, limit: QuotaLimit, store: QuotaStore, fractions: Mapping[str, float]
    ) -> _Requests:
        """A request quota's counter and, when the service has shares, one per part."""
        policy, note = self.policy, self._note_request
        whole = RequestQuota(service, limit, store, policy, note)
        sizes = policy.share_sizes(limit.limit, fractions)
        if not sizes.shares:
            return _Requests(whole, {})

        def part(name: str, size: int, caps: Caps, *, exact: bool) -> RequestQuota:
            sized = replace(limit, limit=size, name=limit.quota_name)
            return RequestQuota(
                service, sized, store, policy, note, share=name, caps=caps, exact=exact
            )

        parts = {
            name: part(name, size, policy.caps(size), exact=True)
            for name, size in sizes.shares.items()
        }
        parts[REST] = part(REST, sizes.rest, policy.rest_caps(limit.limit, sizes), exact=False)
        return _Requests(whole, parts)

    def _count_all(
        self,
        quotas: _Quotas,
        units: int,
        asked: frozenset[str],
        priority: bool,
        share: str | None,
        now: datetime,
    ) -> tuple[Counted, ...]:
        """Count the call in every quota (in a divided one: its part decides, the whole
        counts); if one refuses (the table knew more than the estimates), give back what the
        others counted before raising."""
        counted: list[Counted] = []
        try:
            for request_quota in quotas.requests if units else ():
                counted.append(request_quota.deciding(share).acquire(units, priority, now))
                if request_quota.parts:
                    counted.append(request_quota.whole.add(units, now))
            for symbol_quota in quotas.symbols if asked else ():
                added = symbol_quota.acquire(asked, priority, now)
                if added is not None:
                    counted.append(added)
        except QuotaExhaustedError:
            by_id = quotas.request_counters
            for done in counted:
                if done.quota in by_id:
                    by_id[done.quota].release(done, now)
            raise
        return tuple(counted)

    def _note_request(self) -> None:
        self._requests.made = getattr(self._requests, "made", 0) + 1
