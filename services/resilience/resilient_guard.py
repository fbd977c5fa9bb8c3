"""`ResilientGuard`: the circuit breakers and the quota tracker behind `CallGuard`.

For each call: the breaker's copy is asked first (an open circuit refuses without spending
quota), then every quota of the provider counts the call's units (and new symbols) or one
refuses it (in a divided quota, the part of the share the call declares decides), then the
breaker gives its permit (claiming the half-open trial if one is due; if another instance won
it, the counted units are given back), then the call runs and the breaker learns how it went.
`count` adds requests a call made beyond those it declared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import TypeVar

from services.caching.stats import LayerStats
from services.clock import Clock
from services.resilience.breaker import BreakerPolicy, CircuitBreaker, CircuitOpenError
from services.resilience.quota import QuotaTracker
from services.store.circuits import CircuitStore, CircuitTransition

T = TypeVar("T")


class ResilientGuard:
    def __init__(
        self,
        services: Iterable[str],
        circuits: CircuitStore,
        quotas: QuotaTracker,
        clock: Clock,
        breaker_policy: BreakerPolicy | None = None,
    ) -> None:
        self.quotas = quotas
        self._circuits = circuits
        self._clock = clock
        self.breaker_policy = breaker_policy or BreakerPolicy()
        self._breakers = {
            s: CircuitBreaker(s, circuits, clock, self.breaker_policy) for s in services
        }
        self._lock = threading.Lock()

    @property
    def services(self) -> list[str]:
        return list(self._breakers)

    def breaker(self, service: str) -> CircuitBreaker:
        """The service's breaker; one is made for a service not named at construction, so a
        new provider is protected before anyone remembers to list it."""
        with self._lock:
            if service not in self._breakers:
                self._breakers[service] = CircuitBreaker(
                    service, self._circuits, self._clock, self.breaker_policy
                )
            return self._breakers[service]

    def call(
        self,
        service: str,
        operation: Callable[[], T],
        *,
        priority: bool = False,
        units: int = 1,
        symbols: Collection[str] = (),
        share: str | None = None,
    ) -> T:
        breaker = self.breaker(service)
        breaker.check()
        ticket = self.quotas.acquire(
            service, priority=priority, units=units, symbols=symbols, share=share
        )
        try:
            permit = breaker.before_call()
        except CircuitOpenError:
            self.quotas.release(ticket)
            raise
        try:
            result = operation()
        except Exception as error:
            breaker.record_failure(permit, error)
            raise
        breaker.record_success(permit)
        return result

    def count(self, service: str, units: int, *, share: str | None = None) -> None:
        """Count requests a call made beyond those it declared (further pages): they were
        made, so they are never refused, and the circuit learnt of them with the call."""
        self.quotas.count(service, units, share=share)

    def flush(self) -> None:
        """Add the quota counts kept in memory to the table (before a Lambda freezes)."""
        self.quotas.flush()

    def transitions(self, *, limit: int = 50) -> list[CircuitTransition]:
        return self._circuits.transitions(self._clock(), limit=limit)

    def cache_layers(self) -> list[CircuitStateLayer | QuotaCountLayer]:
        """The guard's two caches as layers of `GET /api/v2/ops/caches`."""
        return [CircuitStateLayer(self), QuotaCountLayer(self.quotas)]


@dataclass(frozen=True)
class CircuitStateLayer:
    """The breakers' copies of the circuit records: a hit is a decision made without the
    `GetItem` a shared state would otherwise cost on every call."""

    guard: ResilientGuard
    name: str = "circuit_state"

    def layer_stats(self) -> LayerStats:
        breakers = [self.guard.breaker(s) for s in self.guard.services]
        hits = sum(b.stats.hits for b in breakers)
        misses = sum(b.stats.misses for b in breakers)
        return LayerStats(
            ttl_s=self.guard.breaker_policy.cache_ttl.total_seconds(),
            hits=hits,
            misses=misses,
            entries=sum(1 for b in breakers if b.has_copy),
            reads_saved=hits,
            loads=misses,
            load_reads=misses,
        )


@dataclass(frozen=True)
class QuotaCountLayer:
    """The quota counts kept in memory between syncs: a hit is a call counted without a
    table request (the read, or the update, an unbatched counter would make)."""

    quotas: QuotaTracker
    name: str = "quota_counts"

    def layer_stats(self) -> LayerStats:
        stats = self.quotas.stats
        return LayerStats(
            ttl_s=self.quotas.policy.sync_interval.total_seconds(),
            hits=stats.hits,
            misses=stats.misses,
            entries=self.quotas.counters(),
            reads_saved=stats.hits,
            loads=stats.misses,
            load_reads=stats.misses,
        )
