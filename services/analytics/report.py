"""Every analysis of one panel at once: what the notebook and the workbench section show."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from services.analytics.backtest import Backtest, long_short
from services.analytics.correlation import HorizonCorrelation, horizon_correlations
from services.analytics.event_study import EventStudy, event_study
from services.analytics.leadlag import LeadLag, lead_lag


@dataclass(frozen=True, slots=True)
class AnalyticsReport:
    tickers: tuple[str, ...]
    days: int  # ticker-days in the panel
    days_with_sentiment: int
    correlations: list[HorizonCorrelation]
    lead_lag: LeadLag
    event_study: EventStudy
    backtest: Backtest


def analyze_panel(
    panel: pd.DataFrame, *, threshold: float = 0.3, max_lag: int = 5, window: int = 5
) -> AnalyticsReport:
    """Correlations by horizon, lead/lag, an event study at `threshold` and a long/short
    backtest at the same threshold."""
    return AnalyticsReport(
        tickers=tuple(sorted(panel["ticker"].unique())) if not panel.empty else (),
        days=int(panel.shape[0]),
        days_with_sentiment=int(panel["sentiment"].notna().sum()) if not panel.empty else 0,
        correlations=horizon_correlations(panel),
        lead_lag=lead_lag(panel, max_lag),
        event_study=event_study(panel, threshold, before=window, after=window),
        backtest=long_short(panel, threshold),
    )
