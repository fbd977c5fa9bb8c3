"""Charts of the model section: pure data -> HoloViews functions.

`confusion_heatmap`: a confusion matrix as a heat map with its counts written in the cells
(true label down, predicted label across, in the API's label order). `reliability_plot`: the
mean confidence against the accuracy of each confidence bin, with the diagonal a perfectly
calibrated model would follow. `share_bars`: for each tier, the share of its texts each tier
answers (a cascade hands the texts it is unsure of to the next tier).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import holoviews as hv
import holoviews.plotting.bokeh  # registers the Bokeh options used below
import pandas as pd

CALIBRATED, MEASURED = "#94a3b8", "#2563eb"
HEIGHT = 300


def confusion_frame(confusion: Sequence[Sequence[int]], labels: Sequence[str]) -> pd.DataFrame:
    """One row per cell: truth, predicted, count (and the share of the truth's row)."""
    rows = []
    for truth, counts in zip(labels, confusion, strict=False):
        total = sum(counts)
        for predicted, count in zip(labels, counts, strict=False):
            share = count / total if total else 0.0
            rows.append({"truth": truth, "predicted": predicted, "count": count, "share": share})
    return pd.DataFrame(rows, columns=["truth", "predicted", "count", "share"])


def confusion_heatmap(frame: pd.DataFrame, title: str) -> hv.Overlay:
    """`frame`: truth, predicted, count, share (`confusion_frame`). Colour by the share of
    the row, so a rare class's mistakes show as plainly as a common one's."""
    labels = list(dict.fromkeys(frame["truth"]))
    cells = hv.HeatMap(frame, kdims=["predicted", "truth"], vdims=["share", "count"]).opts(
        cmap="Blues", clim=(0, 1), tools=["hover"], colorbar=False
    )
    counts = hv.Labels(frame, kdims=["predicted", "truth"], vdims=["count"]).opts(
        text_color="#0f172a", text_font_size="14pt"
    )
    return (
        (cells * counts)
        .opts(
            title=title,
            xlabel="stored / predicted label",
            ylabel="known label",
            height=HEIGHT,
            responsive=True,
            toolbar=None,
        )
        .redim.values(predicted=labels, truth=list(reversed(labels)))
    )


def reliability_frame(bins: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per non-empty confidence bin: low, high, count, confidence, accuracy."""
    columns = ["low", "high", "count", "confidence", "accuracy"]
    rows = [{c: b.get(c) for c in columns} for b in bins if b.get("count")]
    return pd.DataFrame(rows, columns=columns).astype(float)


def reliability_plot(frame: pd.DataFrame, title: str) -> hv.Overlay:
    """`frame`: low, high, count, confidence, accuracy (`reliability_frame`)."""
    diagonal = hv.Curve([(0.0, 0.0), (1.0, 1.0)], "confidence", "accuracy", label="calibrated")
    measured = hv.Curve(frame, "confidence", ["accuracy", "count"], label="measured").opts(
        color=MEASURED, line_width=2
    )
    points = hv.Scatter(frame, "confidence", ["accuracy", "count", "low", "high"]).opts(
        color=MEASURED, size=8, tools=["hover"]
    )
    return (diagonal.opts(color=CALIBRATED, line_dash="dashed") * measured * points).opts(
        title=title,
        xlabel="mean confidence of the bin",
        ylabel="accuracy of the bin",
        xlim=(0, 1),
        ylim=(0, 1),
        legend_position="top_left",
        height=HEIGHT,
        responsive=True,
    )


def share_frame(tiers: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per tier and answering tier: tier, answered_by, share."""
    rows = [
        {"tier": tier, "answered_by": answered_by, "share": float(share)}
        for tier, figures in tiers.items()
        for answered_by, share in (figures.get("share_answered") or {}).items()
    ]
    return pd.DataFrame(rows, columns=["tier", "answered_by", "share"])


def share_bars(frame: pd.DataFrame) -> hv.Bars:
    """`frame`: tier, answered_by, share (`share_frame`), stacked per tier."""
    return hv.Bars(frame, kdims=["tier", "answered_by"], vdims=["share"]).opts(
        stacked=True,
        cmap="Category10",
        tools=["hover"],
        ylim=(0, 1),
        title="Share of the texts each tier answers",
        xlabel="tier given the texts",
        ylabel="share answered",
        legend_position="right",
        height=HEIGHT,
        responsive=True,
    )
