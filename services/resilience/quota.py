"""Quota tracking per external service, each limit in its own UTC period, shared through the
table: the design (periods, levels and reserve, batching and its bound, symbol sets, shares) is
in `docs/architecture.md`, "Quotas"."""

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
