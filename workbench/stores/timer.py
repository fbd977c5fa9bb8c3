"""The interview timer: start, pause, reset.

Elapsed time is read from a clock, not counted in ticks, so a late or skipped tick of the
periodic callback never makes the timer drift; ticks only publish the current value.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import param


class TimerStore(param.Parameterized):
    elapsed_s = param.Number(default=0.0, bounds=(0, None), doc="seconds on the clock")
    running = param.Boolean(default=False)

    def __init__(self, clock: Callable[[], float] = time.monotonic, **params: Any) -> None:
        super().__init__(**params)
        self._clock = clock
        self._banked_s = 0.0
        self._started_at: float | None = None

    def start(self) -> None:
        if self._started_at is None:
            self._started_at = self._clock()
            self.running = True

    def pause(self) -> None:
        if self._started_at is not None:
            self._banked_s += self._clock() - self._started_at
            self._started_at = None
            self.param.update(running=False, elapsed_s=self._banked_s)

    def reset(self) -> None:
        self._banked_s = 0.0
        self._started_at = None
        self.param.update(running=False, elapsed_s=0.0)

    def tick(self) -> None:
        if self._started_at is not None:
            self.elapsed_s = self._banked_s + self._clock() - self._started_at

    @property
    def display(self) -> str:
        minutes, seconds = divmod(int(self.elapsed_s), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"
