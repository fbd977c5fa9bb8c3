"""Does sentiment lead price? Correlations by horizon, lead/lag bars, the event-study curve
and the long/short equity curves, each with its sample size and notes."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from services.analytics.correlation import correlation_table
from services.analytics.report import AnalyticsReport
from workbench.charts.analytics import equity_curves, event_curve, lead_lag_bars
from workbench.components.empty_state import EmptyNotice
from workbench.components.format import md_code, md_text, problem_markdown
from workbench.stores.analytics import AnalyticsStore, parse_tickers

EMULATOR_NOTE = (
    "On the local emulators prices are built to follow the day's news tone, so any "
    "relationship found here is the one the emulator was made to produce: the figures show "
    "the method, not a fact about markets."
)


def summary_markdown(report: AnalyticsReport | None) -> str:
    if report is None:
        return "Analysing the default watchlist..."
    lead = report.lead_lag
    study = report.event_study
    test = report.backtest
    best = f"**{lead.best_lag}**" if lead.best_lag is not None else "**none**"
    lines = [
        f"**{md_text(', '.join(report.tickers)) or 'no ticker'}**: {report.days} ticker-days "
        f"with a price, {report.days_with_sentiment} with sentiment.",
        f"- Lead/lag: strongest significant lag {best} (n = {lead.n} at lag 0)"
        + (f". *{md_text(lead.note)}*" if lead.note else ""),
        f"- Event study: **{study.n_events}** crossings of {study.threshold:+.2f}"
        + (f". *{md_text(study.note)}*" if study.note else ""),
        f"- Backtest over {test.days} days: long/short **{_pct(test.total_return)}**, "
        f"buy-and-hold **{_pct(test.benchmark_return)}**, turnover {test.turnover:.2f} a day, "
        f"{test.active_days} ticker-days in a position, hit rate {_share(test.hit_rate)}"
        + (f". *{md_text(test.note)}*" if test.note else ""),
    ]
    return "\n".join(lines)


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:+.1%}"


def _share(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0%}"


class AnalyticsPanel(Viewer):
    store: AnalyticsStore = param.ClassSelector(class_=AnalyticsStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        store = self.store
        self.tickers_input = pn.widgets.TextInput(
            label="Tickers", value=", ".join(store.tickers), placeholder="AAPL, MSFT"
        )
        self.tickers_input.param.watch(self._tickers_typed, "value")
        self.range_buttons = pn.widgets.RadioButtonGroup.from_param(
            store.param.range_name, label="Range"
        )
        self.source_select = pn.widgets.Select.from_param(store.param.source, label="Source")
        self.threshold_slider = pn.widgets.FloatSlider.from_param(
            store.param.threshold, label="Threshold"
        )
        self.lag_slider = pn.widgets.IntSlider.from_param(store.param.max_lag, label="Max lag")
        self.load_button = pn.widgets.Button(label="Analyse", color="primary", align="end")
        self.load_button.on_click(self._load)
        self.empty_notice = EmptyNotice(state=store.empty, fix=store.run_ingestion)
        # Analysis knobs recompute from the loaded panel at once, without a new API read.
        store.param.watch(self._knob_changed, ["threshold", "max_lag", "window"])

    def _tickers_typed(self, event: param.parameterized.Event) -> None:
        self.store.tickers = parse_tickers(str(event.new))

    def _knob_changed(self, *_: Any) -> None:
        self.store.rerun()

    async def _load(self, _: Any) -> None:
        await self.store.load()

    @param.depends("store.report", "store.problem", "store.loading")
    def summary(self) -> str:
        if self.store.loading:
            return "Reading prices and sentiment..."
        report, problem = self.store.report, self.store.problem
        # Before the first answer the summary says it is coming, unless an error stopped it.
        summary = summary_markdown(report) if report is not None or problem is None else ""
        parts = [problem_markdown(problem), summary]
        return "\n\n".join(p for p in parts if p)

    @param.depends("store.report")
    def correlations(self) -> pn.viewable.Viewable:
        report = self.store.report
        if report is None:
            return pn.pane.Markdown("")
        table = correlation_table(report.correlations).round(4)
        return pn.pane.DataFrame(table, index=False, sizing_mode="stretch_width")

    @param.depends("store.report")
    def charts(self) -> pn.viewable.Viewable:
        report = self.store.report
        if report is None or report.days == 0:
            return pn.pane.Markdown("")
        study = report.event_study
        equity = report.backtest.equity
        if equity.empty:
            equity = pd.DataFrame({"date": [], "strategy": [], "benchmark": []})
        return pn.Column(
            pn.pane.HoloViews(lead_lag_bars(report.lead_lag.table), sizing_mode="stretch_width"),
            pn.pane.HoloViews(
                event_curve(study.curve, threshold=study.threshold, events=study.n_events),
                sizing_mode="stretch_width",
            ),
            pn.pane.HoloViews(equity_curves(equity), sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    @param.depends("store.requests")
    def requests(self) -> str:
        calls = self.store.requests
        return "" if not calls else "<small>" + " · ".join(md_code(c) for c in calls) + "</small>"

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "## Does sentiment lead price?",
            "Daily sentiment of the chosen source joined to daily returns "
            "(`GET /api/v2/tickers/{t}/ohlc` and `/sentiment/history`): correlations with the "
            "same day's and the next 1, 3 and 5 days' returns (95 % Fisher-z intervals), "
            "lead/lag, an event study around threshold crossings, and a long/short backtest.",
            f"*{EMULATOR_NOTE}*",
            pn.Row(self.tickers_input, self.source_select, self.load_button),
            pn.Row(self.range_buttons, self.threshold_slider, self.lag_slider),
            pn.pane.Markdown(self.summary, sizing_mode="stretch_width"),
            self.empty_notice,
            pn.panel(self.correlations, sizing_mode="stretch_width"),
            pn.panel(self.charts, sizing_mode="stretch_width"),
            pn.pane.Markdown(self.requests, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
