"""Charts of a traffic-generator run: pure `DataFrame -> HoloViews`, fed by
`services.traffic.frames` (one row per request; the circuits' timeline)."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import holoviews.plotting.bokeh  # registers the Bokeh options used below
import numpy as np
import pandas as pd

OUTCOME_COLOURS = {
    "ok": "#16a34a",
    "rate_limited": "#f59e0b",
    "circuit_breaker": "#7c3aed",
    "error": "#dc2626",
}
CACHE_COLOURS = {"hit": "#16a34a", "miss": "#dc2626", "none": "#64748b"}
# Circuit states as levels, so a state change is a step on the chart.
STATE_LEVELS = {"closed": 0, "half_open": 1, "open": 2}
HEIGHT = 300


def _framed(title: str, xlabel: str, ylabel: str) -> dict[str, Any]:
    """The options every request chart here shares: its labels, the height, the page's
    width, and hover."""
    return {
        "title": title,
        "xlabel": xlabel,
        "ylabel": ylabel,
        "height": HEIGHT,
        "responsive": True,
        "tools": ["hover"],
    }


def latency_histogram(records: pd.DataFrame, *, bins: int = 30, title: str = "") -> hv.Histogram:
    """Round trips (ms) of the requests that got an answer."""
    answered = records.loc[records["status"] > 0, "latency_ms"].to_numpy(dtype=float)
    edges = np.histogram_bin_edges(answered, bins=bins) if len(answered) else np.array([0, 1])
    counts, edges = np.histogram(answered, bins=edges)
    return hv.Histogram((edges, counts), kdims=["latency_ms"], vdims=["requests"]).opts(
        **_framed(title or "latency (ms)", "latency (ms)", "requests")
    )


def outcome_bars(records: pd.DataFrame, *, title: str = "") -> hv.Bars:
    """Requests per status code, coloured by outcome (ok, rate limited, circuit, error)."""
    counts = (
        records.assign(status=records["status"].astype(str))
        .groupby(["status", "outcome"], as_index=False)
        .size()
        .rename(columns={"size": "requests"})
    )
    return hv.Bars(counts, kdims=["status"], vdims=["requests", "outcome"]).opts(
        color=hv.dim("outcome").categorize(OUTCOME_COLOURS, default="#64748b"),
        **_framed(title or "answers by status", "HTTP status", "requests"),
    )


def latency_by_request(
    records: pd.DataFrame, *, colour_by: str = "cache", title: str = ""
) -> hv.Scatter:
    """Each request's latency in the order sent, coloured by `X-Cache` or by outcome."""
    frame = records.reset_index(drop=True).assign(
        n=lambda f: f.index,
        cache=lambda f: f["cache"].fillna("none"),
    )
    colours = CACHE_COLOURS if colour_by == "cache" else OUTCOME_COLOURS
    return hv.Scatter(frame, "n", ["latency_ms", colour_by, "route", "status"]).opts(
        color=hv.dim(colour_by).categorize(colours, default="#64748b"),
        size=6,
        **_framed(
            title or f"latency per request (colour: {colour_by})",
            "request (in the order sent)",
            "latency (ms)",
        ),
    )


def request_rate(records: pd.DataFrame, *, bin_s: float = 0.5, title: str = "") -> hv.Histogram:
    """Requests started per second over the run."""
    started = records["started_s"].to_numpy(dtype=float)
    end = float(started.max()) if len(started) else 1.0
    edges = np.arange(0.0, end + bin_s, bin_s)
    if len(edges) < 2:
        edges = np.array([0.0, bin_s])
    counts, edges = np.histogram(started, bins=edges)
    return hv.Histogram((edges, counts / bin_s), kdims=["seconds"], vdims=["requests_per_s"]).opts(
        **_framed(title or "request rate", "seconds since the run began", "requests per second")
    )


def circuit_timeline(timeline: pd.DataFrame, *, title: str = "") -> hv.Overlay:
    """Each service's circuit state over the run, as steps between closed, half-open, open."""
    curves = []
    for service, frame in timeline.groupby("service"):
        levels = frame.assign(level=frame["state"].map(STATE_LEVELS))
        curves.append(
            hv.Curve(levels, "t_s", ["level", "state", "failures"], label=str(service)).opts(
                interpolation="steps-post", line_width=3, tools=["hover"]
            )
        )
    overlay = hv.Overlay(curves or [hv.Curve([], "t_s", "level")])
    return overlay.opts(
        title=title or "circuit state",
        height=HEIGHT,
        responsive=True,
        yticks=[(v, k) for k, v in STATE_LEVELS.items()],
        ylim=(-0.3, 2.3),
        xlabel="seconds since the run began",
        ylabel="circuit state",
        legend_position="top_left",
    )
