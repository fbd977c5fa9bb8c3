"""The API's request figures, kept per minute by each instance and shared through the table.

Latencies go into a histogram with logarithmic buckets (each 15 % wider than the last), so
the minutes of every instance merge by adding counts and a percentile read from the merge is
within one bucket (15 %) of the exact one. An instance writes its minutes at most once per
flush interval (one small item per instance and minute); the metrics function merges them.

What a caller sends must not grow these items: a request is named by the app's declared
route it matched, and every other path shares one name (`UNMATCHED_ROUTE`), so a flood of
made-up paths adds one key, not one per path. A minute also keeps at most `MAX_KEYS` routes
and statuses each (the rest are added up under `OTHER`), which keeps every item far below
DynamoDB's 400 KB. A minute that cannot be written is retried a few times, then dropped and
logged: one bad minute never holds back the ones after it.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from re import Pattern
from typing import Any, Protocol

from services.clock import Clock

LOG = logging.getLogger(__name__)
SMALLEST_MS = 0.5
GROWTH = 1.15
BUCKETS = 90  # up to about 0.5 ms * 1.15^90 = 146 s; slower requests land in the last

# Every request no declared route matched (unknown paths, undeclared methods).
UNMATCHED_ROUTE = "(unmatched)"
# CORS preflight of a declared path: answered by the resolver itself, named once.
PREFLIGHT_ROUTE = "OPTIONS (preflight)"
# Keys past the cap of a minute's routes or statuses are added up under this one.
OTHER = "(other)"
# The app declares about 45 routes: room for all of them, their preflight and unmatched.
MAX_KEYS = 100
# How often the API's instances write their minutes. With several execution environments an
# idle one writes its current minute only on its next request, and a metrics run sees only
# what was written: a short interval bounds what a run misses to this many seconds per
# environment, for one small write per environment every few seconds.
SHARED_FLUSH_INTERVAL = timedelta(seconds=10)


def bucket_of(duration_ms: float) -> int:
    if duration_ms <= SMALLEST_MS:
        return 0
    index = math.ceil(math.log(duration_ms / SMALLEST_MS, GROWTH))
    return min(BUCKETS - 1, index)


def bucket_upper_ms(index: int) -> float:
    return SMALLEST_MS * GROWTH**index


@dataclass(frozen=True, slots=True)
class DeclaredRoute:
    """One route of the app: its method, its path template (`/alerts/<alert_id>`) and the
    pattern the resolver matches paths with."""

    method: str
    template: str
    pattern: Pattern[str]

    @property
    def name(self) -> str:
        """`GET /api/v2/alerts/{alert_id}`: the template as the OpenAPI document writes it."""
        return f"{self.method} {self.template.replace('<', '{').replace('>', '}')}"


class RouteNames:
    """Names a request by the declared route it matched, the way the resolver matches it
    (static paths before templated ones); anything else is `UNMATCHED_ROUTE`. The number of
    names is the number of declared routes plus two, whatever callers send."""

    def __init__(self, routes: Iterable[DeclaredRoute]) -> None:
        ordered = sorted(routes, key=lambda r: r.pattern.groups > 0)
        self._static = {(r.method, r.template): r.name for r in ordered if not r.pattern.groups}
        self._dynamic = [r for r in ordered if r.pattern.groups]
        self._paths = [r.pattern for r in ordered]

    def name(self, method: str, path: str) -> str:
        method = method.upper()
        static = self._static.get((method, path))
        if static is not None:
            return static
        for route in self._dynamic:
            if route.method == method and route.pattern.match(path):
                return route.name
        if method == "OPTIONS" and any(p.match(path) for p in self._paths):
            return PREFLIGHT_ROUTE
        return UNMATCHED_ROUTE


def _capped_add(counts: Counter[str], key: str, n: int = 1) -> None:
    """Add `n` under `key`, or under `OTHER` once `MAX_KEYS` distinct keys are held."""
    if key in counts or len(counts) < MAX_KEYS:
        counts[key] += n
    else:
        counts[OTHER] += n


def _capped(counts: Mapping[str, int]) -> Counter[str]:
    kept: Counter[str] = Counter()
    # The largest first, so what is folded away is the long tail.
    for key, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        _capped_add(kept, key, n)
    return kept


@dataclass
class MinuteStats:
    """One instance's requests in one minute."""

    requests: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    histogram: Counter[int] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)

    def add(self, route: str, status: int, duration_ms: float) -> None:
        self.requests += 1
        self.total_ms += duration_ms
        self.max_ms = max(self.max_ms, duration_ms)
        self.histogram[bucket_of(duration_ms)] += 1
        _capped_add(self.statuses, str(status))
        _capped_add(self.routes, route)

    def merge(self, other: MinuteStats) -> None:
        self.requests += other.requests
        self.total_ms += other.total_ms
        self.max_ms = max(self.max_ms, other.max_ms)
        self.histogram.update(other.histogram)
        for key, n in other.statuses.items():
            _capped_add(self.statuses, key, n)
        for key, n in other.routes.items():
            _capped_add(self.routes, key, n)

    def percentile_ms(self, fraction: float) -> float | None:
        if self.requests == 0:
            return None
        rank = max(1, math.ceil(fraction * self.requests))
        seen = 0
        for index in sorted(self.histogram):
            seen += self.histogram[index]
            if seen >= rank:
                return min(bucket_upper_ms(index), self.max_ms)
        return self.max_ms

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "total_ms": round(self.total_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "histogram": {str(k): v for k, v in self.histogram.items()},
            "statuses": dict(self.statuses),
            "routes": dict(self.routes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MinuteStats:
        return cls(
            requests=int(data.get("requests", 0)),
            total_ms=float(data.get("total_ms", 0.0)),
            max_ms=float(data.get("max_ms", 0.0)),
            histogram=Counter({int(k): int(v) for k, v in data.get("histogram", {}).items()}),
            statuses=_capped({str(k): int(v) for k, v in data.get("statuses", {}).items()}),
            routes=_capped({str(k): int(v) for k, v in data.get("routes", {}).items()}),
        )


def merged(minutes: Iterable[MinuteStats]) -> MinuteStats:
    total = MinuteStats()
    for minute in minutes:
        total.merge(minute)
    return total


class MinuteSink(Protocol):
    def put_api_minute(
        self,
        minute: datetime,
        instance: str,
        stats: Mapping[str, Any],
        caches: Mapping[str, Any],
    ) -> None: ...


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class RequestMetrics:
    """Counts this instance's requests by minute and writes them out now and then.

    `caches` reports the instance's cache layers (cumulative hits and misses) so the metrics
    function can compute hit rates across instances from the same items.

    Each minute is written on its own: a write that fails leaves that minute for the next
    flush, up to `max_attempts` writes in all, and the minutes after it are written anyway.
    A minute the sink refuses as unwritable (`ValueError`) is dropped at once. Either way the
    drop is logged, and what is held in memory stays a few minutes' worth.
    """

    def __init__(
        self,
        instance: str,
        sink: MinuteSink,
        clock: Clock,
        *,
        caches: Callable[[], Mapping[str, Any]] = dict,
        flush_interval: timedelta = timedelta(seconds=60),
        max_attempts: int = 3,
        after_record: Callable[[], None] | None = None,
    ) -> None:
        self.instance = instance
        self._sink = sink
        self._clock = clock
        self._caches = caches
        self._interval = flush_interval
        self._max_attempts = max(1, max_attempts)
        self._minutes: dict[datetime, MinuteStats] = {}
        self._dirty: set[datetime] = set()
        self._failed_writes: dict[datetime, int] = {}
        self._lock = threading.Lock()
        self._last_flush = clock()
        self.dropped_minutes = 0
        # Other figures of the instance that publish themselves when due (its cache counters):
        # a request is the only moment a frozen-between-invocations environment can do so.
        self._after_record = after_record

    def record(self, route: str, status: int, duration_ms: float) -> None:
        now = self._clock()
        minute = minute_of(now)
        with self._lock:
            self._minutes.setdefault(minute, MinuteStats()).add(route, status, duration_ms)
            self._dirty.add(minute)
            due = now - self._last_flush >= self._interval
        if due:
            try:
                self.flush()
            except Exception:
                # Figures must never fail the request they describe.
                LOG.warning("could not write request metrics", exc_info=True)
        if self._after_record is not None:
            try:
                self._after_record()
            except Exception:
                LOG.warning("could not publish the instance's figures", exc_info=True)

    def flush(self) -> int:
        """Write every minute that changed since the last flush; then keep only the current
        one and those left to retry. Returns how many minutes were written."""
        now = self._clock()
        with self._lock:
            payload = {m: self._minutes[m].to_json() for m in sorted(self._dirty)}
            self._dirty.clear()
            self._last_flush = now
        caches = self._caches() if payload else {}
        written: list[datetime] = []
        failed: dict[datetime, Exception] = {}
        for minute, stats in payload.items():
            try:
                self._sink.put_api_minute(minute, self.instance, stats, caches)
            except Exception as refused:
                failed[minute] = refused
            else:
                written.append(minute)
        with self._lock:
            for minute in written:
                self._failed_writes.pop(minute, None)
            for minute, cause in failed.items():
                self._retry_or_drop(minute, cause)
            current = minute_of(now)
            self._minutes = {
                m: s for m, s in self._minutes.items() if m >= current or m in self._dirty
            }
        return len(written)

    def _retry_or_drop(self, minute: datetime, error: Exception) -> None:
        attempts = self._failed_writes.get(minute, 0) + 1
        if attempts < self._max_attempts and not isinstance(error, ValueError):
            self._failed_writes[minute] = attempts
            self._dirty.add(minute)
            LOG.warning(
                "could not write a request minute; it is retried with the next flush",
                extra={"minute": minute.isoformat(), "attempt": attempts, "error": repr(error)},
            )
            return
        self._failed_writes.pop(minute, None)
        self.dropped_minutes += 1
        # Requests recorded for it after this flush began start a fresh count of it.
        self._minutes.pop(minute, None)
        self._dirty.discard(minute)
        LOG.error(
            "dropped a request minute that could not be written",
            extra={"minute": minute.isoformat(), "attempts": attempts, "error": repr(error)},
        )
