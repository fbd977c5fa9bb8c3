"""Panels built from the API's answer shapes, with series we control."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from services.analytics.loader import panel_from_answers


def business_days(count: int, start: str = "2024-01-02") -> list[str]:
    return [d.date().isoformat() for d in pd.bdate_range(start, periods=count)]


def panel(
    sentiment: Sequence[float | None],
    log_returns: Sequence[float],
    *,
    ticker: str = "AAA",
    counts: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Day i has return log_returns[i] (day 0's return is not observed: it sets the first
    close) and sentiment[i] (None: no news that day)."""
    dates = business_days(len(log_returns))
    closes = 100.0 * np.exp(np.cumsum(np.asarray(log_returns, dtype=float)))
    ohlc = {"candles": [{"date": d, "close": c} for d, c in zip(dates, closes, strict=True)]}
    counts = counts or [3] * len(sentiment)
    history = {
        "history": [
            {"date": d, "score": s, "count": n}
            for d, s, n in zip(dates, sentiment, counts, strict=True)
            if s is not None
        ]
    }
    return panel_from_answers(ticker, ohlc, history)
