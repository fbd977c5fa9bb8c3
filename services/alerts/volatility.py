"""Volatility as the average true range (ATR) of daily candles, in percent of the last close."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from services.adapters.models import Candle


def atr_percent(candles: Sequence[Candle], days: int = 14) -> float | None:
    """Mean true range of the last `days` candles over the last close, x100.

    A candle's true range is the largest of high-low, |high-previous close| and
    |low-previous close|, so an overnight gap counts. None without enough candles (the
    first one only supplies a previous close) or a usable last close.
    """
    ordered = sorted(candles, key=lambda c: c.timestamp)
    if len(ordered) < days + 1 or ordered[-1].close <= 0:
        return None
    window = ordered[-(days + 1) :]
    ranges = [
        max(c.high - c.low, abs(c.high - prev.close), abs(c.low - prev.close))
        for prev, c in pairwise(window)
    ]
    return 100.0 * (sum(ranges) / len(ranges)) / ordered[-1].close
