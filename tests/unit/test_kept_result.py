"""A kept result is computed once per period, by one caller at a time, however many ask."""

from __future__ import annotations

import threading
import time

import pytest

from services.ops.kept import KeptResult

pytestmark = pytest.mark.unit


class Monotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_result_is_kept_for_its_period_then_computed_again() -> None:
    clock = Monotonic()
    kept: KeptResult[int] = KeptResult(5.0, monotonic=clock)
    assert kept.get(lambda: 1) == (1, 0.0)
    clock.now += 4.9
    assert kept.get(lambda: 2) == (1, pytest.approx(4.9))
    clock.now += 0.1
    assert kept.get(lambda: 3) == (3, 0.0)
    kept.forget()
    assert kept.get(lambda: 4) == (4, 0.0) and kept.computations == 3


def test_a_failed_computation_keeps_nothing() -> None:
    kept: KeptResult[int] = KeptResult(60.0, monotonic=Monotonic())

    def broken() -> int:
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        kept.get(broken)
    assert kept.get(lambda: 7) == (7, 0.0)


def test_callers_at_once_share_one_computation() -> None:
    kept: KeptResult[int] = KeptResult(60.0)
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.05)
        return 42

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(kept.get(slow)[0])) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 8 and len(calls) == 1
