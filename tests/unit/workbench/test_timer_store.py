"""The interview timer reads a clock, so late ticks never make it drift."""

from __future__ import annotations

import pytest

from workbench.stores.timer import TimerStore

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_timer_counts_only_while_running() -> None:
    clock = Clock()
    timer = TimerStore(clock=clock)
    timer.start()
    clock.now += 65
    timer.tick()
    assert (timer.elapsed_s, timer.display, timer.running) == (65, "01:05", True)
    timer.pause()
    clock.now += 100
    timer.tick()
    assert (timer.elapsed_s, timer.running) == (65, False)
    timer.start()
    clock.now += 5
    timer.tick()
    assert timer.elapsed_s == 70


def test_reset_stops_and_zeroes() -> None:
    clock = Clock()
    timer = TimerStore(clock=clock)
    timer.start()
    clock.now += 3700
    timer.tick()
    assert timer.display == "1:01:40"
    timer.reset()
    assert (timer.elapsed_s, timer.running, timer.display) == (0, False, "00:00")


def test_a_second_start_does_not_restart_the_clock() -> None:
    clock = Clock()
    timer = TimerStore(clock=clock)
    timer.start()
    clock.now += 10
    timer.start()
    timer.tick()
    assert timer.elapsed_s == 10
