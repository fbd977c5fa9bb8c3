"""A result kept for a few seconds, computed by one caller at a time.

For answers that poll or flood traffic must not turn into table reads: `/health`'s probe,
the operator's pipeline and table counts. However many requests arrive at once, one computes
and the others wait for its result; for `ttl_s` after it, every request gets that result.
Unlike `services.caching.ttl.TtlCache` it keeps a failed outcome too when the computation
returns one (a health probe that found the table down), so an outage is not probed harder.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class KeptResult(Generic[T]):
    def __init__(self, ttl_s: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.computations = 0
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._kept: tuple[float, T] | None = None

    def get(self, compute: Callable[[], T]) -> tuple[T, float]:
        """The kept result and its age in seconds, or a new one (age 0) once it is older than
        `ttl_s`. An exception from `compute` keeps nothing and reaches the caller."""
        with self._lock:
            now = self._monotonic()
            if self._kept is not None and now - self._kept[0] < self.ttl_s:
                return self._kept[1], now - self._kept[0]
            value = compute()
            self.computations += 1
            self._kept = (self._monotonic(), value)
            return value, 0.0

    def forget(self) -> None:
        """The next `get` computes (after a change the caller made itself)."""
        with self._lock:
            self._kept = None
