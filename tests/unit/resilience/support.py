"""What the resilience unit tests share: a clock they move, provider errors to throw."""

from __future__ import annotations

from services.adapters.errors import (
    ProviderNotFoundError,
    ProviderUnavailableError,
)
from tests.clock import START, Clock

__all__ = ["START", "Clock", "outage", "unknown_ticker"]


def outage(service: str = "tiingo") -> ProviderUnavailableError:
    return ProviderUnavailableError(service, "GET /tiingo/news -> 500", 500)


def unknown_ticker(service: str = "tiingo") -> ProviderNotFoundError:
    return ProviderNotFoundError(service, "GET /tiingo/daily/zzzz/prices -> 404", 404)
