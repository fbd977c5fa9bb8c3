"""Clocks a test sets (`clock.now = ...`) or moves (`clock.advance(...)`), to hand to the code
under test wherever it takes a clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A wall clock, `START` until the test moves it."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(
        self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> None:
        self.now += timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


@dataclass
class SecondsClock:
    """A clock of bare seconds, for code that reads a monotonic clock."""

    now: float

    def __call__(self) -> float:
        return self.now
