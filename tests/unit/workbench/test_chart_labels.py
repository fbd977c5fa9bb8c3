"""Every chart of the workbench says what it shows: a title, both axes labelled (with units
where there are units), and a legend wherever two series share a plot."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import pandas as pd
import pytest
from bokeh.core.property.vectorization import Field
from bokeh.models import Plot

from workbench.charts.analytics import equity_curves, event_curve, lead_lag_bars
from workbench.charts.model import (
    confusion_frame,
    confusion_heatmap,
    reliability_frame,
    reliability_plot,
    share_bars,
    share_frame,
)
from workbench.charts.observability import bars, per_minute, waterfall
from workbench.charts.traffic import (
    circuit_timeline,
    latency_by_request,
    latency_histogram,
    outcome_bars,
    request_rate,
)

pytestmark = pytest.mark.unit


def records() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "route": ["/a", "/b", "/a"],
            "status": [200, 429, 200],
            "latency_ms": [3.0, 5.0, 4.0],
            "started_s": [0.1, 0.4, 0.9],
            "cache": ["hit", None, "miss"],
            "outcome": ["ok", "rate_limited", "ok"],
        }
    )


def charts() -> dict[str, tuple[Any, int]]:
    """name -> (chart, how many series it overlays)."""
    dates = pd.date_range("2026-01-01", periods=4, freq="D")
    lags = pd.DataFrame(
        {
            "lag": [-1, 0, 1],
            "r": [0.1, 0.2, 0.5],
            "ci_low": [-0.1, 0.0, 0.3],
            "ci_high": [0.3, 0.4, 0.7],
            "significant": [False, False, True],
        }
    )
    curve = pd.DataFrame(
        {
            "offset": [-1, 0, 1],
            "mean": [0.0, 0.01, 0.02],
            "ci_low": [-0.01] * 3,
            "ci_high": [0.03] * 3,
        }
    )
    equity = pd.DataFrame({"date": dates, "strategy": [1, 1.1, 1.2, 1.1], "benchmark": [1] * 4})
    labels = ["negative", "positive", "neutral"]
    bins = [{"low": 0.5, "high": 0.6, "count": 4, "confidence": 0.55, "accuracy": 0.5}]
    shares = {"linear": {"share_answered": {"linear": 0.7, "transformer": 0.3}}}
    minutes = [
        {"minute": "2026-01-01T00:00:00Z", "requests": 2, "p99": 3.0},
        {"minute": "2026-01-01T00:01:00Z", "requests": 4, "p99": 7.5},
    ]
    spans = [{"name": "handler", "kind": "handler", "start_ms": 0.0, "duration_ms": 2.0}]
    timeline = pd.DataFrame(
        {
            "service": ["tiingo", "tiingo", "finnhub"],
            "t_s": [0.0, 1.0, 0.0],
            "state": ["closed", "open", "closed"],
            "failures": [0, 5, 0],
        }
    )
    return {
        "lead_lag": (lead_lag_bars(lags), 1),
        "event": (event_curve(curve, threshold=0.3, events=2), 1),
        "equity": (equity_curves(equity), 2),
        "confusion": (confusion_heatmap(confusion_frame([[1, 0, 0]] * 3, labels), "live"), 1),
        "reliability": (reliability_plot(reliability_frame(bins), "calibration"), 2),
        "shares": (share_bars(share_frame(shares)), 2),
        "metric_bars": (bars({"p50_ms": 1.0, "p99_ms": 2.0}, "api latency"), 1),
        "per_minute": (per_minute(minutes), 2),
        "waterfall": (waterfall(spans, title="GET /health"), 1),
        "histogram": (latency_histogram(records()), 1),
        "outcomes": (outcome_bars(records()), 1),
        "by_request": (latency_by_request(records()), 1),
        "rate": (request_rate(records()), 1),
        "circuits": (circuit_timeline(timeline), 2),
    }


def plot_of(chart: Any) -> Plot:
    state = hv.renderer("bokeh").get_plot(chart).state
    plots = state.select({"type": Plot}) if not isinstance(state, Plot) else [state]
    return next(iter(plots))


@pytest.mark.parametrize("name", sorted(charts()))
def test_each_chart_has_a_title_axis_labels_and_a_legend_for_two_series(name: str) -> None:
    chart, series = charts()[name]
    plot = plot_of(chart)
    assert plot.title is not None and plot.title.text, name
    labels = [a.axis_label for a in [*plot.xaxis, *plot.yaxis]]
    assert labels and all(labels), (name, labels)
    if series > 1:
        items = [item for legend in plot.legend for item in legend.items]
        # One item whose label is a column (stacked bars) stands for one entry per group.
        by_column = any(isinstance(item.label, Field) for item in items)
        assert len(items) >= 2 or by_column, name


def test_metric_groups_say_their_unit() -> None:
    plot = plot_of(bars({"avg": 1.0, "p99": 2.0}, "api.latency_ms"))
    assert [a.axis_label for a in plot.yaxis] == ["milliseconds"]
    plot = plot_of(bars({"a": 0.5, "b": 0.9}, "hit_rate by layer"))
    assert [a.axis_label for a in plot.yaxis] == ["share (0 to 1)"]
