"""What one cache layer reports (`GET /api/v2/ops/caches`), and how layers add up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LayerStats:
    ttl_s: float
    hits: int
    misses: int
    entries: int
    # DynamoDB reads the hits avoided: each hit counts the reads its entry's load made.
    reads_saved: int
    loads: int = 0
    load_reads: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    @property
    def reads_per_load(self) -> float:
        return self.load_reads / self.loads if self.loads else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ttl_s": self.ttl_s,
            "hits": self.hits,
            "misses": self.misses,
            "hit_rate": round(self.hit_rate, 4),
            "entries": self.entries,
            "reads_saved": self.reads_saved,
            "loads": self.loads,
            "reads_per_load": round(self.reads_per_load, 3),
        }


def totals(layers: Iterable[LayerStats]) -> dict[str, Any]:
    """Every layer together (no TTL: it is a property of one layer)."""
    hits = misses = entries = saved = loads = load_reads = 0
    for layer in layers:
        hits += layer.hits
        misses += layer.misses
        entries += layer.entries
        saved += layer.reads_saved
        loads += layer.loads
        load_reads += layer.load_reads
    return {
        "hits": hits,
        "misses": misses,
        "hit_rate": round(hits / (hits + misses), 4) if hits + misses else 0.0,
        "entries": entries,
        "reads_saved": saved,
        "loads": loads,
        "load_reads": load_reads,
    }
