"""The one backoff: random within its bounds, growing with each attempt."""

from __future__ import annotations

import pytest

from services.backoff import jittered_pause

pytestmark = pytest.mark.unit


def test_each_attempt_waits_within_its_bounds_and_longer_than_the_first() -> None:
    slept: list[float] = []
    for attempt in range(3):
        pause = jittered_pause(attempt, low_s=0.01, high_s=0.02, sleep=slept.append)
        assert 0.01 * (attempt + 1) <= pause <= 0.02 * (attempt + 1)
    assert slept[2] >= 0.03 > 0.02 >= slept[0]
