"""Event study: the average cumulative return around the days sentiment crosses a threshold.

An event is a day whose sentiment crosses the threshold in its direction: from below to at or
above a threshold >= 0, from above to at or below a negative one (the previous day with news
on the other side; days without news are skipped, not counted as crossings). Around each event
day t the cumulative log return at offset k is log(close_{t+k} / close_{t-1}): 0 at k = -1, the
event day's own return at k = 0, the path before the event for k < -1. Only events whose whole
window lies inside the data count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.analytics.stats import mean_interval, sample_note

MIN_EVENTS = 10


@dataclass(frozen=True, slots=True)
class EventStudy:
    threshold: float
    curve: pd.DataFrame  # offset, mean, ci_low, ci_high, n
    events: pd.DataFrame  # ticker, date, sentiment
    n_events: int
    note: str | None


def crossings(panel: pd.DataFrame, threshold: float) -> pd.Series:
    """True on the days whose sentiment crosses `threshold` (see the module)."""
    flags = pd.Series(False, index=panel.index)
    for _, rows in panel.groupby("ticker", sort=False):
        with_news = rows["sentiment"].dropna()
        before = with_news.shift(1)
        if threshold >= 0:
            crossed = (before < threshold) & (with_news >= threshold)
        else:
            crossed = (before > threshold) & (with_news <= threshold)
        flags.loc[crossed[crossed].index] = True
    return flags


def event_study(
    panel: pd.DataFrame,
    threshold: float,
    *,
    before: int = 5,
    after: int = 5,
    min_events: int = MIN_EVENTS,
) -> EventStudy:
    offsets = list(range(-before, after + 1))
    flags = crossings(panel, threshold)
    paths: list[list[float]] = []
    events = []
    for _, rows in panel.groupby("ticker", sort=False):
        log_close = np.log(rows["close"].to_numpy(dtype=float))
        for position in np.flatnonzero(flags.loc[rows.index].to_numpy()):
            start, end = min(position - before, position - 1), position + after
            if start < 0 or end >= len(rows):
                continue  # the window runs off the data
            base = log_close[position - 1]
            paths.append([float(log_close[position + k] - base) for k in offsets])
            row = rows.iloc[position]
            events.append(
                {"ticker": row["ticker"], "date": row["date"], "sentiment": row["sentiment"]}
            )
    matrix = np.array(paths, dtype=float).reshape(len(paths), len(offsets))
    curve = pd.DataFrame(
        [
            {
                "offset": k,
                **dict(
                    zip(("mean", "ci_low", "ci_high"), mean_interval(matrix[:, i]), strict=True)
                ),
                "n": len(paths),
            }
            for i, k in enumerate(offsets)
        ]
    )
    note = sample_note(len(paths), min_events, "events")
    return EventStudy(
        threshold,
        curve,
        pd.DataFrame(events, columns=["ticker", "date", "sentiment"]),
        len(paths),
        note,
    )
