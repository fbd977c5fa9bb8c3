"""From the API's answers to one daily panel: a ticker's closes and returns per trading day,
joined to one source's daily sentiment.

Sentiment of a day without trading (weekends, holidays) is rolled into the next trading day,
count-weighted, since that is the first close it can move. Returns are dated by their close:
`log_return` on day t is log(close_t / close_{t-1}).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

PANEL_COLUMNS = (
    "date",
    "ticker",
    "close",
    "log_return",
    "simple_return",
    "sentiment",
    "count",
)


def prices_frame(ohlc: Mapping[str, Any]) -> pd.DataFrame:
    """`GET /api/v2/tickers/{t}/ohlc` (daily) as date, close, log_return, simple_return."""
    candles = ohlc.get("candles") or []
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(
                [c["date"] for c in candles], utc=True, format="ISO8601"
            ).tz_localize(None),
            "close": [float(c["close"]) for c in candles],
        }
    )
    if frame.empty:
        return frame.assign(log_return=[], simple_return=[])
    frame["date"] = frame["date"].dt.normalize()
    frame = frame.drop_duplicates("date", keep="last").sort_values("date").reset_index(drop=True)
    frame["log_return"] = np.log(frame["close"]).diff()
    frame["simple_return"] = frame["close"].pct_change()
    return frame


def sentiment_frame(history: Mapping[str, Any]) -> pd.DataFrame:
    """`GET /api/v2/tickers/{t}/sentiment/history` as date, sentiment, count (one row a day;
    hourly points are pooled into their day, count-weighted)."""
    points = history.get("history") or []
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(
                [p["date"] for p in points], utc=True, format="ISO8601"
            ).tz_localize(None),
            "sentiment": [float(p["score"]) for p in points],
            "count": [int(p["count"]) for p in points],
        }
    )
    if frame.empty:
        return frame
    frame["date"] = frame["date"].dt.normalize()
    return _pool_by_day(frame)


def _pool_by_day(frame: pd.DataFrame) -> pd.DataFrame:
    weights = frame["count"].clip(lower=1)
    pooled = (
        frame.assign(weighted=frame["sentiment"] * weights, weight=weights)
        .groupby("date", as_index=False)
        .agg(weighted=("weighted", "sum"), weight=("weight", "sum"), count=("count", "sum"))
    )
    pooled["sentiment"] = pooled["weighted"] / pooled["weight"]
    return pooled[["date", "sentiment", "count"]]


def daily_panel(ticker: str, prices: pd.DataFrame, sentiment: pd.DataFrame) -> pd.DataFrame:
    """One row per trading day of `prices`: close, returns, and the sentiment of that day
    (plus any non-trading days just before it); NaN sentiment where there was no news."""
    if prices.empty:
        return pd.DataFrame(columns=list(PANEL_COLUMNS))
    panel = prices[["date", "close", "log_return", "simple_return"]].copy()
    panel.insert(1, "ticker", ticker)
    if sentiment.empty:
        return panel.assign(sentiment=np.nan, count=0)[list(PANEL_COLUMNS)]
    trading = panel["date"].to_numpy()
    # The first trading day on or after each sentiment day; past the last close: dropped.
    position = np.searchsorted(trading, sentiment["date"].to_numpy(), side="left")
    inside = position < len(trading)
    rolled = sentiment.loc[inside].assign(date=trading[position[inside]])
    pooled = _pool_by_day(rolled) if not rolled.empty else rolled
    panel = panel.merge(pooled, on="date", how="left")
    panel["count"] = panel["count"].fillna(0).astype(int)
    return panel[list(PANEL_COLUMNS)]


def stack_panels(panels: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Several tickers' panels as one, ordered by ticker then date."""
    chosen = [p for p in panels if not p.empty]
    if not chosen:
        return pd.DataFrame(columns=list(PANEL_COLUMNS))
    return pd.concat(chosen, ignore_index=True).sort_values(["ticker", "date"], ignore_index=True)


def shifted(panel: pd.DataFrame, column: str, periods: int) -> pd.Series:
    """`column` moved by `periods` rows within each ticker (-1: the next day's value)."""
    return panel.groupby("ticker", sort=False)[column].shift(periods)


def forward_return(panel: pd.DataFrame, days: int) -> pd.Series:
    """The log return from close t to close t + days (the next `days` days), per ticker."""
    total = pd.Series(0.0, index=panel.index)
    for step in range(1, days + 1):
        total = total + shifted(panel, "log_return", -step)
    return total
