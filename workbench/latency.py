"""Latency as the workbench feels it: a rolling window of its own API calls' round trips.

The API publishes no latency figure of its own yet, and a server-side figure would leave out
the network and the Function URL layer anyway; what a person waiting on this page experiences
is the round trip, so that is what the header tiles show.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LatencySummary:
    """Mean and 99th percentile (nearest rank) of the calls in the window."""

    count: int
    window: int
    mean_ms: float | None
    p99_ms: float | None
    slowest: str | None


class LatencyWindow:
    """The last `size` round trips, oldest dropped first."""

    def __init__(self, size: int = 200) -> None:
        if size < 1:
            raise ValueError("the window must hold at least one call")
        self.size = size
        self._samples: deque[tuple[str, float]] = deque(maxlen=size)

    def record(self, label: str, elapsed_ms: float) -> None:
        self._samples.append((label, elapsed_ms))

    def summary(self) -> LatencySummary:
        samples = list(self._samples)
        if not samples:
            return LatencySummary(0, self.size, None, None, None)
        elapsed = np.array([ms for _, ms in samples])
        label, _ = max(samples, key=lambda sample: sample[1])
        return LatencySummary(
            count=len(elapsed),
            window=self.size,
            mean_ms=float(elapsed.mean()),
            # Nearest rank: the smallest sample with at least 99% of the window at or below
            # it (a figure some call really took).
            p99_ms=float(np.percentile(elapsed, 99, method="inverted_cdf")),
            slowest=label,
        )
