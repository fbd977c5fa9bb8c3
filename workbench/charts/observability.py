"""Pure `data -> HoloViews` functions of the observability section: a request's spans as a
waterfall, and a group of metric figures as bars."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import holoviews.plotting.bokeh  # registers the Bokeh options used below
import pandas as pd

KIND_COLOURS = {
    "dynamodb": "#2563eb",
    "handler": "#16a34a",
    "middleware": "#d97706",
}
OTHER_COLOUR = "#6b7280"


def spans_frame(spans: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per span, in start order, labelled uniquely (a waterfall has one row each)."""
    rows = []
    for index, span in enumerate(spans):
        start = float(span.get("start_ms", 0.0))
        duration = float(span.get("duration_ms", 0.0))
        rows.append(
            {
                "row": f"{index + 1:02d} {span.get('name', '?')}",
                "kind": str(span.get("kind", "other")),
                "start_ms": start,
                "end_ms": start + duration,
                "duration_ms": duration,
                "colour": KIND_COLOURS.get(str(span.get("kind")), OTHER_COLOUR),
            }
        )
    return pd.DataFrame(
        rows, columns=["row", "kind", "start_ms", "end_ms", "duration_ms", "colour"]
    )


def waterfall(spans: list[dict[str, Any]], title: str = "") -> hv.Segments:
    """Each span as a bar from its start to its end on a shared millisecond axis."""
    frame = spans_frame(spans)
    order = list(reversed(frame["row"].tolist()))
    segments = hv.Segments(
        frame.assign(row_end=frame["row"]),
        kdims=["start_ms", "row", "end_ms", "row_end"],
        vdims=["kind", "duration_ms", "colour"],
    )
    return segments.opts(
        color="colour",
        line_width=14,
        tools=["hover"],
        height=max(160, 28 * len(frame) + 70),
        responsive=True,
        title=title,
        xlabel="ms since the request began",
        ylabel="span",
        default_tools=["pan", "wheel_zoom", "reset", "save"],
    ).redim.values(row=order, row_end=order)


def value_label(group: str) -> str:
    """The unit of a metrics group, from its name: latencies in ms, rates as shares."""
    name = group.lower()
    if "latency" in name or name.endswith("_ms"):
        return "milliseconds"
    if "rate" in name:
        return "share (0 to 1)"
    return "count"


def bars(values: dict[str, float], title: str, *, xlabel: str = "", ylabel: str = "") -> hv.Bars:
    """One bar per figure of a group; the labels say what is counted (`title` by default)."""
    frame = pd.DataFrame({"name": list(values), "value": list(values.values())})
    return hv.Bars(frame, kdims=["name"], vdims=["value"]).opts(
        title=title,
        xlabel=xlabel or "figure",
        ylabel=ylabel or value_label(title),
        tools=["hover"],
        height=240,
        responsive=True,
        xrotation=30,
        color="#2563eb",
    )


def per_minute(rows: list[dict[str, Any]]) -> hv.Overlay:
    """Requests per minute (bars) with p99 latency per minute (line) on its own axis."""
    frame = pd.DataFrame(rows)
    frame["minute"] = pd.to_datetime(frame["minute"]).dt.tz_localize(None)
    minute = hv.Dimension("minute", label="minute (UTC)")
    count = hv.Dimension("requests", label="requests per minute")
    p99 = hv.Dimension("p99", label="p99 latency (ms)")
    requests = hv.Curve(frame, minute, count, label="requests").opts(color="#2563eb")
    slowest = hv.Curve(frame.fillna(0.0), minute, p99, label="p99 ms").opts(color="#dc2626")
    return (requests * slowest).opts(
        multi_y=True,
        height=260,
        responsive=True,
        title="Requests and p99 latency per minute",
        legend_position="top_left",
        tools=["hover"],
    )
