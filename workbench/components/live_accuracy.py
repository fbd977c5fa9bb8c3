"""Live accuracy: how well the running pipeline scored the news it ingested, against the known
labels of the emulated headlines (`GET /api/v2/ops/accuracy`), refreshed while in view."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.charts.model import confusion_frame, confusion_heatmap
from workbench.components.format import (
    call_markdown,
    md_code,
    md_text,
    per_class_markdown,
    problem_markdown,
)
from workbench.components.tile import TILE_CSS, tile_html
from workbench.stores.accuracy import LiveAccuracyStore

LOCAL_ONLY = (
    "Live accuracy is measured on the local stack only: its emulated news are real headlines "
    "with known labels, which real news does not have."
)
NOTHING_YET = (
    "**No analyzed articles from the labelled corpus yet**: run ingestion (the button below, "
    "or wait for the schedule) and the figures appear once analysis has scored the stories."
)


def figure_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


class LiveAccuracyPanel(Viewer):
    store: LiveAccuracyStore = param.ClassSelector(class_=LiveAccuracyStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.ingest_button = pn.widgets.Button(label="Run ingestion now", color="primary")
        self.ingest_button.on_click(self._ingest)
        # Kept for the page's life and given new objects: the page redraws it in place.
        self.matrix = pn.Column(sizing_mode="stretch_width")
        self.store.param.watch(self._draw, ["confusion", "labels", "status"])
        self._draw()

    async def _ingest(self, _: Any) -> None:
        await self.store.run_ingestion()

    def _draw(self, *_: Any) -> None:
        store = self.store
        if store.status != "live" or not store.n:
            self.matrix.objects = []
            return
        frame = confusion_frame(store.confusion, store.labels)
        title = f"Known label against stored label, latest {store.n} labelled articles"
        self.matrix.objects = [
            pn.pane.HoloViews(confusion_heatmap(frame, title), sizing_mode="stretch_width")
        ]

    @param.depends("store.status", "store.note", "store.n", "store.empty_note")
    def state(self) -> str:
        store = self.store
        if store.status == "missing":
            return f"{LOCAL_ONLY}\n\n{md_text(store.note)}"
        if store.status != "live":
            return f"**Live accuracy**: {md_text(store.note or 'waiting for the first answer')}"
        if not store.n:
            return f"{NOTHING_YET}\n\n<small>The API: {md_text(store.empty_note)}</small>"
        return ""

    @param.depends("store.accuracy", "store.macro_f1", "store.n", "store.status")
    def tiles(self) -> str:
        store = self.store
        source = (
            f"GET /api/v2/ops/accuracy?limit={store.limit}: the latest {store.articles_read} "
            f"analyzed articles, {store.n} of them from the labelled corpus"
        )
        live = store.status == "live" and store.n > 0
        cards = [
            tile_html(
                "Accuracy",
                figure_text(store.accuracy) if live else "n/a",
                f"{source}; stored label = known label, over n",
                tone="good" if live else "muted",
            ),
            tile_html(
                "Macro-F1",
                figure_text(store.macro_f1) if live else "n/a",
                f"{source}; the mean of the three classes' F1",
                tone="good" if live else "muted",
            ),
            tile_html(
                "Labelled articles (n)",
                f"{store.n:,}" if store.status == "live" else "n/a",
                source,
            ),
        ]
        return f'<div style="display:flex;gap:8px;flex-wrap:wrap">{"".join(cards)}</div>'

    @param.depends("store.per_class", "store.model_versions", "store.status", "store.n")
    def details(self) -> str:
        store = self.store
        if store.status != "live" or not store.n:
            return ""
        versions = ", ".join(f"{md_code(v)} ({n})" for v, n in store.model_versions.items())
        return "\n\n".join(
            [
                per_class_markdown(store.per_class, store.labels),
                f"Scored by {versions or 'n/a'}, between {md_text(store.analyzed_from)} and "
                f"{md_text(store.analyzed_to)}.",
            ]
        )

    @param.depends("store.last_call", "store.problem", "store.busy", "store.ingestion_runs")
    def outcome(self) -> str:
        store = self.store
        lines = ["working…"] if store.busy else []
        if store.problem is not None:
            lines.append(problem_markdown(store.problem))
        if store.ingestion_runs:
            lines.append(f"Ingestion cycles run from this section: {store.ingestion_runs}.")
        lines.append(call_markdown(store.last_call, empty="", body=False))
        return "\n\n".join(line for line in lines if line)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "### Live accuracy `GET /api/v2/ops/accuracy`",
            "The emulated news are real headlines whose sentiment is known (the validation "
            "split of Twitter Financial News Sentiment, which the model never trains on). "
            "Each stored article names its headline in its URL, so the labels analysis stored "
            "are checked against the known ones, over the latest analyzed articles.",
            pn.pane.Markdown(self.state, sizing_mode="stretch_width"),
            pn.pane.HTML(self.tiles, stylesheets=[TILE_CSS], sizing_mode="stretch_width"),
            self.matrix,
            pn.pane.Markdown(self.details, sizing_mode="stretch_width"),
            pn.Row(self.ingest_button),
            pn.pane.Markdown(self.outcome, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
