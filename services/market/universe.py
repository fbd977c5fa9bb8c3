"""The exchange list: real US-listed tickers with their company names and exchanges.

Ticker validation, ticker search and the provider emulators all read this one list.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Ticker:
    symbol: str
    name: str
    exchange: str
    sector: str
    reference_price: float


class TickerUniverse:
    def __init__(self, tickers: list[Ticker]) -> None:
        self._by_symbol = {t.symbol: t for t in tickers}

    @classmethod
    def load(cls) -> TickerUniverse:
        return _packaged()

    @property
    def symbols(self) -> list[str]:
        return sorted(self._by_symbol)

    @property
    def exchanges(self) -> list[str]:
        return sorted({t.exchange for t in self._by_symbol.values()})

    def get(self, symbol: str) -> Ticker | None:
        return self._by_symbol.get(symbol.strip().upper())

    def is_listed(self, symbol: str) -> bool:
        return self.get(symbol) is not None

    def search(self, query: str, limit: int = 10) -> list[Ticker]:
        """Symbol prefix matches first (exact first), then company-name substring matches."""
        needle = query.strip().lower()
        if not needle:
            return []
        by_symbol = sorted(
            (t for t in self._by_symbol.values() if t.symbol.lower().startswith(needle)),
            key=lambda t: (t.symbol.lower() != needle, len(t.symbol), t.symbol),
        )
        by_name = sorted(
            (
                t
                for t in self._by_symbol.values()
                if needle in t.name.lower() and t not in by_symbol
            ),
            key=lambda t: t.symbol,
        )
        return (by_symbol + by_name)[:limit]


@cache
def _packaged() -> TickerUniverse:
    text = (resources.files("services.market") / "data" / "tickers.csv").read_text()
    rows = csv.DictReader(io.StringIO(text))
    return TickerUniverse(
        [
            Ticker(r["symbol"], r["name"], r["exchange"], r["sector"], float(r["price"]))
            for r in rows
        ]
    )
