"""What the resilience unit tests share: a clock they move, provider errors to throw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.adapters.errors import (
    ProviderNotFoundError,
    ProviderUnavailableError,
)

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def outage(service: str = "tiingo") -> ProviderUnavailableError:
    return ProviderUnavailableError(service, "GET /tiingo/news -> 500", 500)


def unknown_ticker(service: str = "tiingo") -> ProviderNotFoundError:
    return ProviderNotFoundError(service, "GET /tiingo/daily/zzzz/prices -> 404", 404)
