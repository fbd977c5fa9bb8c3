"""Every cache layer of one process, in one place, for `GET /api/v2/ops/caches` (which adds
up the registries of every execution environment, see `services.caching.shared`).

Registering is one line where a layer is built: `return deps.caches.register(TtlCache("circuits",
60.0))`. Any object with a `name` and a `layer_stats()` can be a layer; a cache of another
shape measures its loads with `services.caching.reads.reads_on_this_thread()`, as TtlCache does.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol, TypeVar

from services.caching.stats import LayerStats, totals


class CacheLayer(Protocol):
    @property
    def name(self) -> str: ...

    def layer_stats(self) -> LayerStats: ...


LayerT = TypeVar("LayerT", bound=CacheLayer)


class CacheRegistry:
    def __init__(self) -> None:
        self._layers: dict[str, CacheLayer] = {}
        self._lock = threading.Lock()

    def register(self, layer: LayerT) -> LayerT:
        """Add `layer` and hand it back. A second layer under a taken name is refused: the
        report would silently show only one of them."""
        with self._lock:
            known = self._layers.get(layer.name)
            if known is not None and known is not layer:
                raise ValueError(f"a cache layer named {layer.name!r} is already registered")
            self._layers[layer.name] = layer
        return layer

    def names(self) -> list[str]:
        with self._lock:
            return list(self._layers)

    def stats(self) -> dict[str, LayerStats]:
        """Every layer's counters now, by name (sorted)."""
        with self._lock:
            layers = dict(self._layers)
        return {name: layer.layer_stats() for name, layer in sorted(layers.items())}

    def report(self) -> dict[str, Any]:
        """`{layers: {name: {ttl_s, hits, misses, hit_rate, entries, reads_saved, ...}},
        totals: {...}}` of this process alone (`services.caching.shared` adds up every
        environment's)."""
        stats = self.stats()
        return {
            "layers": {name: layer.as_dict() for name, layer in stats.items()},
            "totals": totals(stats.values()),
        }
