"""Lead/lag cross-correlation: sentiment on day t against the return on day t + lag.

A positive lag means sentiment comes first (it leads the return by `lag` days); a negative
one that the return comes first (news reporting a move). Lag 0 is the same day.

Testing 2 * max_lag + 1 lags at 95 % finds one "significant" lag in three by chance alone on
pure noise, so the lag reported as the lead is chosen among those whose p-value passes the
Bonferroni bound 0.05 / lags; the per-lag intervals are shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from services.analytics.frames import shifted
from services.analytics.stats import MIN_PAIRS, correlation, sample_note

ALPHA = 0.05


@dataclass(frozen=True, slots=True)
class LeadLag:
    table: pd.DataFrame  # lag, r, ci_low, ci_high, p_value, n, significant (per lag, 95 %)
    best_lag: int | None  # largest |r| among the lags passing the Bonferroni bound
    n: int  # pairs at lag 0
    note: str | None


def lead_lag(panel: pd.DataFrame, max_lag: int = 5, *, min_pairs: int = MIN_PAIRS) -> LeadLag:
    rows = []
    for lag in range(-max_lag, max_lag + 1):
        result = correlation(
            panel["sentiment"], shifted(panel, "log_return", -lag), min_pairs=min_pairs
        )
        rows.append(
            {
                "lag": lag,
                "r": result.r,
                "ci_low": result.low,
                "ci_high": result.high,
                "p_value": result.p_value,
                "n": result.n,
                "significant": result.significant,
            }
        )
    table = pd.DataFrame(rows)
    bound = ALPHA / len(table)
    passing = table[table["p_value"] < bound]
    best = int(passing.loc[passing["r"].abs().idxmax(), "lag"]) if not passing.empty else None
    n = int(table.loc[table["lag"] == 0, "n"].iloc[0])
    note = sample_note(n, min_pairs, "days with both sentiment and a return")
    if note is None and best is None:
        note = (
            f"no lag passes p < {bound:.4f} (0.05 over {len(table)} lags): no evidence that "
            "sentiment leads or follows the return"
        )
    return LeadLag(table, best, n, note)
