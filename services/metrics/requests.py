"""The API's request figures, kept per minute by each instance and shared through the table.

Latencies go into a histogram with logarithmic buckets (each 15 % wider than the last), so
the minutes of every instance merge by adding counts and a percentile read from the merge is
within one bucket (15 %) of the exact one. An instance writes its minutes at most once per
flush interval (one small item per instance and minute); the metrics function merges them.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.clock import Clock

LOG = logging.getLogger(__name__)
SMALLEST_MS = 0.5
GROWTH = 1.15
BUCKETS = 90  # up to about 0.5 ms * 1.15^90 = 146 s; slower requests land in the last

_ID_SEGMENT = re.compile(r"^(?:[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{24,}|[A-Za-z0-9_-]{32,})$")


def bucket_of(duration_ms: float) -> int:
    if duration_ms <= SMALLEST_MS:
        return 0
    index = math.ceil(math.log(duration_ms / SMALLEST_MS, GROWTH))
    return min(BUCKETS - 1, index)


def bucket_upper_ms(index: int) -> float:
    return SMALLEST_MS * GROWTH**index


def route_of(method: str, path: str) -> str:
    """The route a request took, without its ids: `GET /api/v2/configurations/{id}/sentiment`."""
    parts = path.split("/")
    for position, part in enumerate(parts):
        previous = parts[position - 1] if position else ""
        if _ID_SEGMENT.match(part):
            parts[position] = "{id}"
        elif previous == "tickers" and part:
            parts[position] = "{ticker}"
    return f"{method.upper()} {'/'.join(parts)}"


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
        self.statuses[str(status)] += 1
        self.routes[route] += 1

    def merge(self, other: MinuteStats) -> None:
        self.requests += other.requests
        self.total_ms += other.total_ms
        self.max_ms = max(self.max_ms, other.max_ms)
        self.histogram.update(other.histogram)
        self.statuses.update(other.statuses)
        self.routes.update(other.routes)

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
            statuses=Counter({str(k): int(v) for k, v in data.get("statuses", {}).items()}),
            routes=Counter({str(k): int(v) for k, v in data.get("routes", {}).items()}),
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
    """

    def __init__(
        self,
        instance: str,
        sink: MinuteSink,
        clock: Clock,
        *,
        caches: Callable[[], Mapping[str, Any]] = dict,
        flush_interval: timedelta = timedelta(seconds=60),
    ) -> None:
        self.instance = instance
        self._sink = sink
        self._clock = clock
        self._caches = caches
        self._interval = flush_interval
        self._minutes: dict[datetime, MinuteStats] = {}
        self._dirty: set[datetime] = set()
        self._lock = threading.Lock()
        self._last_flush = clock()

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
                # Figures must never fail the request they describe; the minutes stay dirty
                # and go out with the next flush.
                LOG.warning("could not write request metrics", exc_info=True)

    def flush(self) -> int:
        """Write every minute that changed since the last flush; then keep only the current
        one. A failed write leaves the unwritten minutes to the next flush."""
        now = self._clock()
        with self._lock:
            payload = {m: self._minutes[m].to_json() for m in sorted(self._dirty)}
            self._dirty.clear()
            self._last_flush = now
        caches = self._caches() if payload else {}
        written = 0
        try:
            for minute, stats in payload.items():
                self._sink.put_api_minute(minute, self.instance, stats, caches)
                written += 1
        finally:
            with self._lock:
                self._dirty.update(list(payload)[written:])
                current = minute_of(now)
                self._minutes = {
                    m: s for m, s in self._minutes.items() if m >= current or m in self._dirty
                }
        return written
