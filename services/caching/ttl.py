"""An in-process cache with a time to live, counting hits, misses and the reads it saved.

In Lambda it lives as long as the execution environment; every mutation that could make an
entry wrong invalidates it explicitly, so the TTL only bounds staleness from other instances.

Each entry remembers the DynamoDB reads its load made (counted by `services.caching.reads`
on the loading thread), and every hit on it adds them to `reads_saved`: what the cache avoided
is measured per entry, never assumed. A TTL of 0 switches the cache off (every read loads).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from services.caching.reads import reads_on_this_thread
from services.caching.stats import LayerStats

V = TypeVar("V")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    # Loads that finished (a failed load stores nothing) and the reads they made.
    loads: int = 0
    load_reads: int = 0
    reads_saved: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class TtlCache(Generic[V]):
    def __init__(
        self,
        name: str,
        ttl_s: float,
        *,
        max_entries: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.stats = CacheStats()
        # key -> (expires at, value, reads its load made)
        self._entries: dict[Hashable, tuple[float, V, int]] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic

    def get_or_load(self, key: Hashable, load: Callable[[], V]) -> tuple[V, bool]:
        """The cached value (and True), or the freshly loaded one (and False)."""
        now = self._monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self.stats.hits += 1
                self.stats.reads_saved += entry[2]
                return entry[1], True
            self.stats.misses += 1
        before = reads_on_this_thread()
        value = load()
        reads = reads_on_this_thread() - before
        with self._lock:
            self.stats.loads += 1
            self.stats.load_reads += reads
            if self.ttl_s <= 0:
                return value, False
            if len(self._entries) >= self.max_entries:
                self._evict_expired(now)
                if len(self._entries) >= self.max_entries:
                    self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (now + self.ttl_s, value, reads)
        return value, False

    def invalidate(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def invalidate_where(self, predicate: Callable[[V], bool]) -> None:
        """Drop every entry whose value matches (a scan: for rare events such as sign-in)."""
        with self._lock:
            for key in [k for k, (_, value, _) in self._entries.items() if predicate(value)]:
                del self._entries[key]

    def __len__(self) -> int:
        with self._lock:
            self._evict_expired(self._monotonic())
            return len(self._entries)

    def layer_stats(self) -> LayerStats:
        """This layer's figures for `/api/v2/ops/caches` (see `CacheRegistry`)."""
        entries = len(self)
        with self._lock:
            stats = self.stats
            return LayerStats(
                ttl_s=self.ttl_s,
                hits=stats.hits,
                misses=stats.misses,
                entries=entries,
                reads_saved=stats.reads_saved,
                loads=stats.loads,
                load_reads=stats.load_reads,
            )

    def _evict_expired(self, now: float) -> None:
        for key in [k for k, (expires, _, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
