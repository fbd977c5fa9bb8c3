"""The price-sentiment overlay: candles, a chosen source's sentiment history, volume."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.charts.price_sentiment import price_sentiment_chart
from workbench.components.empty_state import EmptyNotice
from workbench.components.format import md_code, md_text, problem_markdown
from workbench.stores.overlay import OverlayStore


class PriceSentimentPanel(Viewer):
    store: OverlayStore = param.ClassSelector(class_=OverlayStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        store = self.store
        self.ticker_select = pn.widgets.Select.from_param(
            store.param.ticker, label="Ticker", options=list(store.tickers)
        )
        self.range_buttons = pn.widgets.RadioButtonGroup.from_param(
            store.param.range_name, label="Range", options=list(store.schema.ranges)
        )
        self.source_select = pn.widgets.Select.from_param(
            store.param.source, label="Sentiment source", options=list(store.schema.sources)
        )
        self.load_button = pn.widgets.Button(label="Load chart", color="primary", align="end")
        self.load_button.on_click(self._load)
        self.empty_notice = EmptyNotice(state=store.empty, fix=store.run_ingestion)
        store.param.watch(self._ticker_choices, "tickers")
        store.schema.param.watch(self._schema_choices, ["ranges", "sources"])
        # A new choice redraws at once, like any chart control; the button reloads on demand.
        store.param.watch(self._choice_changed, ["range_name", "source"])

    def _ticker_choices(self, *_: Any) -> None:
        self.ticker_select.options = list(self.store.tickers)

    def _schema_choices(self, *_: Any) -> None:
        self.range_buttons.options = list(self.store.schema.ranges)
        self.source_select.options = list(self.store.schema.sources)

    async def _choice_changed(self, *_: Any) -> None:
        if self.store.candles is not None:
            await self.store.load()

    async def _load(self, _: Any) -> None:
        await self.store.load()

    @param.depends("store.candles", "store.history")
    def chart(self) -> pn.viewable.Viewable:
        store = self.store
        if store.candles is None:
            # Drawn on the section's first view; until then, or after an error (shown above).
            waiting = "Loading the default chart..." if not store.loads else ""
            return pn.pane.Markdown(waiting)
        if store.candles.empty:
            return pn.pane.Markdown(
                f"No prices: the API has no candles for {md_text(store.ticker)} over "
                f"{md_text(store.range_name)}. Choose a longer range or another ticker."
            )
        history = store.history if store.history is not None else store.candles.iloc[0:0]
        # Labelled with what was loaded, which a widget may already have moved on from.
        figure = price_sentiment_chart(
            store.candles,
            history,
            ticker=str(store.prices_info.get("ticker") or ""),
            source=str(store.history_info.get("source") or ""),
        )
        return pn.pane.HoloViews(figure, sizing_mode="stretch_width", linked_axes=True)

    @param.depends("store.prices_info", "store.history_info", "store.problem")
    def details(self) -> str:
        prices, history = self.store.prices_info, self.store.history_info
        lines = [problem_markdown(self.store.problem)]
        if prices:
            limited = " (shortened for this resolution)" if prices.get("range_limited") else ""
            stale = ", **stale copy**" if prices.get("stale") else ""
            lines.append(
                f"{md_code(prices.get('request'))}: {md_text(prices.get('count'))} candles "
                f"({md_text(prices.get('range'))}{limited}, resolution "
                f"{md_text(prices.get('resolution'))}) from {md_text(prices.get('source'))}, "
                f"cache layer **{md_text(prices.get('cache_layer'))}**, "
                f"X-Cache **{md_text(prices.get('x_cache') or '-')}**{stale}"
            )
        if history:
            empty = " (none in this range yet)" if not history.get("count") else ""
            lines.append(
                f"{md_code(history.get('request'))}: {md_text(history.get('count'))} "
                f"{md_text(history.get('source'))} points{empty}, resolution "
                f"{md_text(history.get('resolution'))}"
            )
        return "\n\n".join(line for line in lines if line)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "## Price and sentiment",
            "`GET /api/v2/tickers/{t}/ohlc?range=` candles with "
            "`GET /api/v2/tickers/{t}/sentiment/history?range=&source=` on a second axis, and "
            "the volume below on the same time axis. Hover for details; pan and zoom together.",
            pn.Row(self.ticker_select, self.source_select, self.load_button),
            self.range_buttons,
            pn.pane.Markdown(self.details, sizing_mode="stretch_width"),
            self.empty_notice,
            pn.panel(self.chart, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
