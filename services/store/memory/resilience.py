"""What the resilience layer shares between instances, in memory: circuits, quotas, refused
endpoints, rate-limit windows and per-caller allowances."""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from services.store.circuits import DEFAULT_KEEP_TRANSITIONS, CircuitRecord, CircuitTransition
from services.store.entitlements import DEFAULT_KEEP as DEFAULT_KEEP_REFUSALS
from services.store.entitlements import Refusal
from services.store.errors import ConflictError


class InMemoryCircuitStore:
    """Version-checked like the table: one lock stands in for DynamoDB's conditional writes,
    so threads of a test race the way instances do."""

    def __init__(self, keep_transitions: timedelta = DEFAULT_KEEP_TRANSITIONS) -> None:
        self.records: dict[str, CircuitRecord] = {}
        self.log: list[tuple[CircuitTransition, datetime]] = []  # (transition, expires)
        self._keep = keep_transitions
        self._lock = threading.Lock()

    def get(self, service: str) -> CircuitRecord:
        return self.records.get(service, CircuitRecord(service))

    def save(
        self, record: CircuitRecord, *, transition: CircuitTransition | None = None
    ) -> CircuitRecord:
        with self._lock:
            if self.get(record.service).version != record.version:
                raise ConflictError(f"circuit {record.service} changed since it was read")
            stored = replace(record, version=record.version + 1)
            self.records[record.service] = stored
            if transition is not None:
                self.log.append((transition, transition.at + self._keep))
        return stored

    def transitions(self, now: datetime, *, limit: int = 50) -> list[CircuitTransition]:
        # Ordered as the table's sort key orders them: time, service, then the version
        # (which grows with each write, as the log's position does here).
        live = [(t.at, t.service, i, t) for i, (t, expires) in enumerate(self.log) if expires > now]
        return [entry[-1] for entry in sorted(live, reverse=True, key=lambda e: e[:3])][:limit]


class InMemoryQuotaStore:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.symbol_sets: dict[tuple[str, str], frozenset[str]] = {}
        self._lock = threading.Lock()

    def add(
        self, service: str, period: str, amount: int, *, now: datetime, expires_at: datetime
    ) -> int:
        with self._lock:
            total = self.counts.get((service, period), 0) + amount
            self.counts[(service, period)] = total
        return total

    def add_within(
        self,
        service: str,
        period: str,
        amount: int,
        *,
        cap: int,
        now: datetime,
        expires_at: datetime,
    ) -> int | None:
        with self._lock:
            total = self.counts.get((service, period), 0) + amount
            if total > cap:
                return None
            self.counts[(service, period)] = total
        return total

    def get(self, service: str, period: str) -> int:
        return self.counts.get((service, period), 0)

    def add_symbols(
        self,
        service: str,
        period: str,
        symbols: Collection[str],
        *,
        cap: int | None,
        now: datetime,
        expires_at: datetime,
    ) -> frozenset[str] | None:
        with self._lock:
            before = self.symbol_sets.get((service, period), frozenset())
            # The table's condition: the size before, whichever symbols are new.
            if cap is not None and len(before) > cap - len(set(symbols)):
                return None
            after = before | set(symbols)
            self.symbol_sets[(service, period)] = after
        return after

    def symbols(self, service: str, period: str) -> frozenset[str]:
        return self.symbol_sets.get((service, period), frozenset())


class InMemoryEntitlementStore:
    def __init__(self, *, keep: timedelta = DEFAULT_KEEP_REFUSALS) -> None:
        self.items: dict[tuple[str, str], Refusal] = {}
        self._keep = keep

    def record(self, refusal: Refusal) -> None:
        self.items[(refusal.provider, refusal.endpoint)] = refusal

    def refusals(self, now: datetime) -> list[Refusal]:
        return [r for r in self.items.values() if r.at + self._keep > now]

    def forget(self, provider: str, endpoint: str) -> None:
        self.items.pop((provider, endpoint), None)


class InMemoryRateWindows:
    """`DynamoRateWindows` in memory: one count map per (window, instance), overwritten."""

    def __init__(self) -> None:
        self.windows: dict[int, dict[str, dict[str, int]]] = {}
        self.publishes = 0
        self.reads = 0
        self._lock = threading.Lock()

    def publish(
        self, window_start: int, instance: str, counts: Mapping[str, int], expires_at: int
    ) -> None:
        with self._lock:
            self.windows.setdefault(window_start, {})[instance] = dict(counts)
            self.publishes += 1

    def others(self, window_start: int, instance: str) -> dict[str, int]:
        totals: dict[str, int] = {}
        with self._lock:
            self.reads += 1
            for owner, counts in self.windows.get(window_start, {}).items():
                if owner != instance:
                    for key, count in counts.items():
                        totals[key] = totals.get(key, 0) + count
        return totals


class InMemoryAllowanceStore:
    """`DynamoAllowanceStore` in memory: a count per (allowance, subject hash, period)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], int] = {}
        self.expiries: dict[tuple[str, str, str], datetime] = {}
        self._lock = threading.Lock()

    def take(
        self,
        name: str,
        subject_hash: str,
        period: str,
        *,
        limit: int,
        now: datetime,
        expires_at: datetime,
    ) -> int | None:
        key = (name, subject_hash, period)
        with self._lock:
            used = self.counts.get(key, 0)
            if used >= limit:
                return None
            self.counts[key] = used + 1
            self.expiries.setdefault(key, expires_at)
            return used + 1

    def give_back(self, name: str, subject_hash: str, period: str, *, now: datetime) -> None:
        key = (name, subject_hash, period)
        with self._lock:
            if self.counts.get(key, 0) > 0:
                self.counts[key] -= 1
