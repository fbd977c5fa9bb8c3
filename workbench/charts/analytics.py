"""Charts of the analytics: pure DataFrame -> HoloViews functions.

`lead_lag_bars`: r per lag with its 95 % interval (bars coloured where the interval excludes
zero). `event_curve`: mean cumulative return around the events with its interval band.
`equity_curves`: growth of 1 for the long/short strategy and buy-and-hold.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # registers the Bokeh options used below
import pandas as pd

SIGNIFICANT, PLAIN, STRATEGY, BENCHMARK = "#2563eb", "#94a3b8", "#16a34a", "#64748b"
HEIGHT = 300


def lead_lag_bars(table: pd.DataFrame) -> hv.Overlay:
    """`table`: lag, r, ci_low, ci_high, significant (`LeadLag.table`)."""
    data = table.assign(
        r=table["r"].fillna(0.0),
        colour=table["significant"].map({True: SIGNIFICANT, False: PLAIN}),
    )
    bars = hv.Bars(data, kdims=["lag"], vdims=["r", "colour", "ci_low", "ci_high"]).opts(
        color="colour", tools=["hover"], ylim=(-1, 1), xlabel="lag (days; > 0: sentiment first)"
    )
    errors = hv.ErrorBars(
        pd.DataFrame(
            {
                "lag": data["lag"],
                "r": data["r"],
                "neg": (data["r"] - data["ci_low"]).clip(lower=0),
                "pos": (data["ci_high"] - data["r"]).clip(lower=0),
            }
        ),
        kdims=["lag"],
        vdims=["r", "neg", "pos"],
    ).opts(color="#0f172a")
    return (bars * errors).opts(
        title="Correlation of sentiment with the return `lag` days later",
        xlabel="lag (days; > 0: sentiment first)",
        ylabel="r (95 % interval)",
        height=HEIGHT,
        responsive=True,
    )


def event_curve(curve: pd.DataFrame, *, threshold: float, events: int) -> hv.Overlay:
    """`curve`: offset, mean, ci_low, ci_high (`EventStudy.curve`)."""
    data = curve.fillna(0.0)
    band = hv.Area(data, kdims=["offset"], vdims=["ci_low", "ci_high"]).opts(
        alpha=0.2, color=SIGNIFICANT, line_alpha=0
    )
    line = hv.Curve(data, kdims=["offset"], vdims=["mean"]).opts(
        color=SIGNIFICANT, line_width=2, tools=["hover"]
    )
    points = hv.Scatter(data, kdims=["offset"], vdims=["mean"]).opts(color=SIGNIFICANT, size=5)
    zero = hv.HLine(0).opts(color="#94a3b8", line_dash="dashed")
    event_day = hv.VLine(0).opts(color="#94a3b8", line_dash="dotted")
    return (band * line * points * zero * event_day).opts(
        title=f"Cumulative log return around {events} crossings of {threshold:+.2f}",
        xlabel="trading days from the event",
        ylabel="mean cumulative log return",
        height=HEIGHT,
        responsive=True,
    )


def equity_curves(equity: pd.DataFrame) -> hv.Overlay:
    """`equity`: date, strategy, benchmark (`Backtest.equity`)."""
    strategy = hv.Curve(equity, kdims=["date"], vdims=["strategy"], label="long/short").opts(
        color=STRATEGY, line_width=2, tools=["hover"]
    )
    benchmark = hv.Curve(equity, kdims=["date"], vdims=["benchmark"], label="buy and hold").opts(
        color=BENCHMARK, line_width=2, tools=["hover"]
    )
    return (strategy * benchmark).opts(
        title="Growth of 1: long/short by sentiment against buy-and-hold",
        xlabel="date",
        ylabel="equity (growth of 1)",
        legend_position="top_left",
        height=HEIGHT,
        responsive=True,
    )
