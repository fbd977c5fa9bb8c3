"""The TTL cache: hits within the TTL, misses after it or after invalidation, bounded size."""

from __future__ import annotations

import pytest

from services.caching.ttl import TtlCache
from tests.clock import SecondsClock

pytestmark = pytest.mark.unit


def test_hits_until_the_ttl_passes_or_the_key_is_invalidated() -> None:
    clock = SecondsClock(100.0)
    cache: TtlCache[int] = TtlCache("t", 60.0, monotonic=clock)
    loads = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert cache.get_or_load("u1", load) == (1, False)
    assert cache.get_or_load("u1", load) == (1, True)
    clock.now += 61
    assert cache.get_or_load("u1", load) == (2, False)
    cache.invalidate("u1")
    assert cache.get_or_load("u1", load) == (3, False)
    assert (cache.stats.hits, cache.stats.misses) == (1, 3)
    assert cache.stats.hit_rate == pytest.approx(0.25)


def test_size_is_bounded() -> None:
    cache: TtlCache[str] = TtlCache("t", 60.0, max_entries=3, monotonic=SecondsClock(100.0))
    for key in range(10):
        cache.get_or_load(key, lambda key=key: str(key))
    assert len(cache) == 3


def test_invalidate_where_drops_only_matching_values() -> None:
    cache: TtlCache[str] = TtlCache("t", 60.0, monotonic=SecondsClock(100.0))
    for key, owner in [("a", "alice"), ("b", "bob"), ("c", "alice")]:
        cache.get_or_load(key, lambda owner=owner: owner)
    cache.invalidate_where(lambda owner: owner == "alice")
    assert len(cache) == 1
    assert cache.get_or_load("b", lambda: "reloaded") == ("bob", True)
    assert cache.get_or_load("a", lambda: "reloaded") == ("reloaded", False)
