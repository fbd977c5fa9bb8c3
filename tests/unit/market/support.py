"""Fakes the price tests share: a candle source that counts its calls (and fails when told),
and a price cache that keeps what it is given."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.adapters.models import Candle, Resolution
from services.store.ohlc_cache import CachedCandles


class Candles:
    """A source of one daily candle; set `failure` to have it raise instead."""

    def __init__(self) -> None:
        self.calls = 0
        self.failure: Exception | None = None

    def fetch_candles(
        self, ticker: str, start: datetime, end: datetime, resolution: Resolution
    ) -> list[Candle]:
        self.calls += 1
        if self.failure is not None:
            raise self.failure
        return [Candle(end - timedelta(days=1), 10.0, 11.0, 9.5, 10.5, 1000)]


class OhlcStore:
    """The price cache without expiry: what was put is read back."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], CachedCandles] = {}

    def get(self, ticker: str, resolution: str, range_name: str, now: datetime) -> Any:
        return self.items.get((ticker, resolution, range_name))

    def put(self, entry: CachedCandles, expires_at: datetime) -> bool:
        self.items[(entry.ticker, entry.resolution, entry.range_name)] = entry
        return True
