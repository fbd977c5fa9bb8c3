"""A long/short-by-sentiment backtest against buy-and-hold, per ticker, equal-weighted.

Day t's sentiment sets the position held over day t + 1 (the news of day t arrives until
late in the day, after the close, so it can first be traded on the next day): long when it
is at or above `threshold`, short when at or below -`threshold`, flat in between and on days
without news. The strategy earns position * the day's simple return; buy-and-hold earns the
simple return. Turnover is the average absolute change of position per day (2 for a flip
from long to short). No costs are charged, and the figures are in-sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.analytics.frames import shifted
from services.analytics.stats import sample_note

MIN_DAYS = 60


@dataclass(frozen=True, slots=True)
class Backtest:
    threshold: float
    equity: pd.DataFrame  # date, strategy, benchmark (growth of 1), exposure
    total_return: float
    benchmark_return: float
    turnover: float  # average |position change| per ticker and day
    days: int  # trading days with a return
    active_days: int  # ticker-days with a position
    hit_rate: float  # share of active ticker-days the position earned money
    note: str | None


def positions(panel: pd.DataFrame, threshold: float) -> pd.Series:
    """The position held over each day, from the previous day's sentiment."""
    signal = pd.Series(0.0, index=panel.index)
    signal[panel["sentiment"] >= threshold] = 1.0
    signal[panel["sentiment"] <= -threshold] = -1.0
    if threshold == 0:
        signal[panel["sentiment"] == 0] = 0.0
    frame = panel.assign(signal=signal)
    return shifted(frame, "signal", 1).fillna(0.0)


def long_short(
    panel: pd.DataFrame, threshold: float = 0.1, *, min_days: int = MIN_DAYS
) -> Backtest:
    held = positions(panel, threshold)
    returns = panel["simple_return"]
    trading = returns.notna()
    frame = panel.loc[trading, ["date", "ticker"]].assign(
        position=held[trading],
        strategy=(held * returns)[trading],
        benchmark=returns[trading],
    )
    changes = frame.groupby("ticker", sort=False)["position"].diff().abs()
    turnover = float(changes.mean()) if changes.notna().any() else 0.0
    daily = frame.groupby("date", sort=True).agg(
        strategy=("strategy", "mean"),
        benchmark=("benchmark", "mean"),
        exposure=("position", lambda p: float(np.abs(p).mean())),
    )
    equity = pd.DataFrame(
        {
            "date": daily.index,
            "strategy": (1.0 + daily["strategy"]).cumprod().to_numpy(),
            "benchmark": (1.0 + daily["benchmark"]).cumprod().to_numpy(),
            "exposure": daily["exposure"].to_numpy(),
        }
    )
    active = frame[frame["position"] != 0]
    hit_rate = float((active["strategy"] > 0).mean()) if not active.empty else float("nan")
    days = int(daily.shape[0])
    note = sample_note(days, min_days, "trading days")
    if note is None and active.empty:
        note = "sentiment never reached the threshold: the strategy stayed flat"
    return Backtest(
        threshold=threshold,
        equity=equity,
        total_return=float(equity["strategy"].iloc[-1] - 1.0) if days else 0.0,
        benchmark_return=float(equity["benchmark"].iloc[-1] - 1.0) if days else 0.0,
        turnover=turnover,
        days=days,
        active_days=int(active.shape[0]),
        hit_rate=hit_rate,
        note=note,
    )
