"""Cache counters across execution environments, for `GET /api/v2/ops/caches`.

Each environment (a Lambda execution environment, a worker of the local server) keeps its
caches in its own memory. It publishes its layers' counters to the table at most every
`publish_interval` (`services.store.cache_counts`), from a request that finds it due: an
environment is frozen between invocations, so no background thread could be relied on. The
report adds up the counters of every environment seen within `seen_within`, and lists each
one so a person can see how the caches of each environment are doing.

The environment answering a report publishes its own counters first and counts them from
memory, not from the table: with one environment the report is exactly its own counters, and
if the table cannot be reached the report still says what this environment knows
(`shared: false`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from services.caching.registry import CacheRegistry
from services.caching.stats import LayerStats, totals
from services.clock import Clock, iso
from services.store.cache_counts import CacheCountsStore, PublishedCaches

LOG = logging.getLogger(__name__)

COUNTERS = ("hits", "misses", "entries", "reads_saved", "loads", "load_reads")


class SharedCacheCounts:
    def __init__(
        self,
        registry: CacheRegistry,
        store: CacheCountsStore,
        clock: Clock,
        *,
        instance: str,
        pid: int | None = None,
        publish_interval: timedelta = timedelta(seconds=5),
        seen_within: timedelta = timedelta(minutes=2),
    ) -> None:
        self.instance = instance
        self.pid = pid
        self.seen_within = seen_within
        self._registry = registry
        self._store = store
        self._clock = clock
        self._interval = publish_interval
        self._lock = threading.Lock()
        self._next_publish: datetime | None = None  # due on the first request
        self.publish_failures = 0

    def publish_if_due(self) -> None:
        """Called after every request: publishes when the interval has passed. Never raises:
        figures must not fail the request they follow."""
        now = self._clock()
        with self._lock:
            if self._next_publish is not None and now < self._next_publish:
                return
            # Claimed before the write, so concurrent requests do not all publish.
            self._next_publish = now + self._interval
        try:
            self._publish(self._own_layers(), now)
        except Exception as error:
            self.publish_failures += 1
            LOG.warning("cache counters not published: %s", type(error).__name__)

    def report(self, *, others: bool = True) -> dict[str, Any]:
        """`{layers, totals}` across the environments seen lately (as `CacheRegistry.report`
        for one), `environments` (one row each, this one first) and `shared` (whether the
        others were read). `others=False`: this environment alone, without touching the table."""
        now = self._clock()
        own = self._own_layers()
        published: list[PublishedCaches] = []
        shared = False
        if others:
            try:
                self._publish(own, now)
                published = self._store.published_since(now - self.seen_within)
                shared = True
            except Exception as error:
                LOG.warning("other environments' cache counters not read: %s", type(error).__name__)
            with self._lock:
                self._next_publish = now + self._interval
        mine = PublishedCaches(self.instance, self.pid, now, _as_counters(own))
        elsewhere = [p for p in published if p.instance != self.instance]
        environments = [mine, *sorted(elsewhere, key=lambda p: p.published_at, reverse=True)]
        layers = combined(environments, own)
        return {
            "layers": {name: layer.as_dict() for name, layer in sorted(layers.items())},
            "totals": totals(layers.values()),
            "environments": [environment_row(e, now, answering=e is mine) for e in environments],
            "answered_by": {"instance": self.instance, "pid": self.pid},
            "seen_within_s": int(self.seen_within.total_seconds()),
            "shared": shared,
        }

    def _own_layers(self) -> dict[str, LayerStats]:
        return self._registry.stats()

    def _publish(self, layers: Mapping[str, LayerStats], now: datetime) -> None:
        self._store.publish(PublishedCaches(self.instance, self.pid, now, _as_counters(layers)))


def _as_counters(layers: Mapping[str, LayerStats]) -> dict[str, dict[str, Any]]:
    """What an environment publishes of each layer: its TTL and raw counters (rates are
    computed after adding up, never averaged)."""
    return {
        name: {"ttl_s": layer.ttl_s, **{key: getattr(layer, key) for key in COUNTERS}}
        for name, layer in layers.items()
    }


def _layer_from(counters: Mapping[str, Any]) -> LayerStats:
    known = {f.name for f in fields(LayerStats)}
    values = {key: int(counters.get(key, 0) or 0) for key in COUNTERS if key in known}
    return LayerStats(ttl_s=float(counters.get("ttl_s", 0.0) or 0.0), **values)


def combined(
    environments: Iterable[PublishedCaches], own: Mapping[str, LayerStats]
) -> dict[str, LayerStats]:
    """Every layer's counters added up over the environments. A layer's TTL is this
    environment's where it has the layer (environments of one deployment share settings)."""
    sums: dict[str, dict[str, int]] = {}
    ttls: dict[str, float] = {}
    for environment in environments:
        for name, counters in environment.layers.items():
            layer = _layer_from(counters)
            ttls.setdefault(name, layer.ttl_s)
            added = sums.setdefault(name, dict.fromkeys(COUNTERS, 0))
            for key in COUNTERS:
                added[key] += getattr(layer, key)
    return {
        name: LayerStats(ttl_s=own[name].ttl_s if name in own else ttls[name], **added)
        for name, added in sums.items()
    }


def environment_row(
    environment: PublishedCaches, now: datetime, *, answering: bool
) -> dict[str, Any]:
    """One environment's line: its totals over every layer, and when it last published."""
    summed = totals(_layer_from(c) for c in environment.layers.values())
    return {
        "instance": environment.instance,
        "pid": environment.pid,
        "answering": answering,
        "hits": summed["hits"],
        "misses": summed["misses"],
        "hit_rate": summed["hit_rate"],
        "entries": summed["entries"],
        "reads_saved": summed["reads_saved"],
        "last_seen": iso(environment.published_at),
        "age_s": round(max(0.0, (now - environment.published_at).total_seconds()), 1),
    }
