"""A configuration's sentiment: per ticker, each source and the aggregate, with source status."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.empty_state import EmptyNotice
from workbench.components.format import md_code, md_text, problem_markdown
from workbench.stores.sentiment import SentimentStore

_STATUS_COLOURS = {
    "ok": "#16a34a",
    "degraded": "#d97706",
    "unavailable": "#dc2626",
    "not_entitled": "#6b7280",
}


def _number(value: Any, pattern: str) -> str:
    return format(value, pattern) if isinstance(value, int | float) else "-"


class SentimentPanel(Viewer):
    store: SentimentStore = param.ClassSelector(class_=SentimentStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.config_select = pn.widgets.Select(label="Configuration", options={})
        self.get_button = pn.widgets.Button(label="Get sentiment", color="primary", align="end")
        self.get_button.on_click(self._get)
        self.empty_notice = EmptyNotice(state=self.store.empty, fix=self.store.run_ingestion)
        self.config_select.link(self.store, value="config_id")
        self.store.configurations.param.watch(self._refresh_choices, "configurations")
        self.store.param.watch(self._show_choice, "config_id")
        self._refresh_choices()

    def _refresh_choices(self, *_: Any) -> None:
        configs = self.store.configurations.configurations
        self.config_select.options = {
            f"{c.get('name')} ({', '.join(c.get('tickers', []))})": str(c.get("config_id"))
            for c in configs
        }
        self._show_choice()

    def _show_choice(self, *_: Any) -> None:
        if self.store.config_id in self.config_select.options.values():
            self.config_select.value = self.store.config_id

    async def _get(self, _: Any) -> None:
        await self.store.load()

    @param.depends(
        "store.rows", "store.source_status", "store.source_notes", "store.cache", "store.problem"
    )
    def table(self) -> str:
        store = self.store
        if store.problem is not None:
            return problem_markdown(store.problem)
        if not store.rows:
            if store.config_id:
                return "Reading the configuration's sentiment..."
            return "Reading the session's configuration (a sample from the default watchlist)..."
        badges = " ".join(
            f"<span style='color:{_STATUS_COLOURS.get(status, '#6b7280')}'>"
            f"**{md_text(source)}: {md_text(status)}**</span>"
            for source, status in sorted(store.source_status.items())
        )
        rows = [
            f"{md_code(store.request)} → X-Cache: **{md_text(store.cache or '-')}** in "
            f"{md_text(store.elapsed_ms)} ms, last updated {md_text(store.last_updated)}",
            "",
            f"Source status: {badges}",
            "",
            *(
                f"- {md_text(source)} is not in the key's plan: {md_text(note)}"
                for source, note in sorted(store.source_notes.items())
            ),
            "",
            "| ticker | source | score | label | confidence | articles | status |",
            "|---|---|---|---|---|---|---|",
        ]
        rows += [
            f"| {md_text(r['ticker'])} | {md_text(r['source'])} | {_number(r['score'], '+.3f')} "
            f"| {md_text(r['label'])} | {_number(r['confidence'], '.2f')} "
            f"| {_number(r['count'], 'd')} | {md_text(r['status'])} |"
            for r in store.rows
        ]
        return "\n".join(rows)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "## Sentiment Analysis",
            "Sentiment per ticker from several sources: **tiingo** (our model over Tiingo's "
            "articles), **finnhub** (Finnhub's bullish/bearish split), **our_model** (our model "
            "over every article) and the **aggregated** ensemble, confidence-weighted, which "
            "leaves a missing source out and says so.",
            "#### Try it: `GET /api/v2/configurations/{config_id}/sentiment`",
            pn.Row(self.config_select, self.get_button),
            self.empty_notice,
            pn.pane.Markdown(self.table, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
