"""One jittered backoff for every retry after a collision or a failed write."""

from __future__ import annotations

import random
import time
from collections.abc import Callable


def jittered_pause(
    attempt: int,
    *,
    low_s: float,
    high_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Sleeps a random time in [low_s, high_s] times `attempt + 1` and returns it: writers
    that collided spread out, and each retry waits longer than the one before."""
    pause = random.uniform(low_s, high_s) * (attempt + 1)  # noqa: S311 - jitter, not security
    sleep(pause)
    return pause
