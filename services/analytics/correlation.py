"""Sentiment against the same day's return and the returns of the next 1, 3 and 5 days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from services.analytics.frames import forward_return
from services.analytics.stats import MIN_PAIRS, Correlation, correlation

HORIZONS = (0, 1, 3, 5)


@dataclass(frozen=True, slots=True)
class HorizonCorrelation:
    """Horizon 0: the day's sentiment against that day's return (close t-1 to close t).
    Horizon k: against the return from close t to close t + k (what comes after)."""

    horizon: int
    correlation: Correlation


def horizon_correlations(
    panel: pd.DataFrame, horizons: Sequence[int] = HORIZONS, *, min_pairs: int = MIN_PAIRS
) -> list[HorizonCorrelation]:
    found = []
    for horizon in horizons:
        target = panel["log_return"] if horizon == 0 else forward_return(panel, horizon)
        found.append(
            HorizonCorrelation(
                horizon,
                correlation(
                    panel["sentiment"], target, min_pairs=min_pairs, overlap=max(1, horizon)
                ),
            )
        )
    return found


def correlation_table(results: Sequence[HorizonCorrelation]) -> pd.DataFrame:
    """One row per horizon: r, its interval, p-value, n, significance and the note."""
    return pd.DataFrame(
        [
            {
                "horizon_days": h.horizon,
                "r": h.correlation.r,
                "ci_low": h.correlation.low,
                "ci_high": h.correlation.high,
                "p_value": h.correlation.p_value,
                "n": h.correlation.n,
                "significant": h.correlation.significant,
                "note": h.correlation.note or "",
            }
            for h in results
        ]
    )
