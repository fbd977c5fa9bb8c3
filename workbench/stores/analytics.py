"""Does sentiment lead price? The analytics of `services.analytics` over the running API.

The store reads each ticker's daily candles and sentiment history through the workbench's
client (so the calls are timed like every other), builds the daily panel and runs every
analysis on it. Everything shown is computed from those answers. Prices are read with the
workbench's session when there is one: the API fetches prices it has not cached for a
session only.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pandas as pd
import param

from services.analytics.frames import stack_panels
from services.analytics.loader import panel_from_answers
from services.analytics.report import AnalyticsReport, analyze_panel
from workbench.client import ApiClient, Problem
from workbench.stores.empty import DataSectionStore
from workbench.stores.operator import OperatorToken
from workbench.stores.session import SessionStore

# Daily analysis needs daily sentiment points: the history route gives them from a month on.
DAILY_RANGES = ["1M", "3M", "6M", "1Y"]
SOURCES = ["aggregated", "tiingo", "finnhub", "our_model"]
DEFAULT_TICKERS = ["AAPL", "MSFT", "NVDA"]
# The range analysed on open: the backfilled history's span (about four months) fits in it.
DEFAULT_RANGE = "3M"


def parse_tickers(text: str) -> list[str]:
    """Comma- or space-separated symbols, upper-cased, each once, in the order given."""
    found = [t.strip().upper() for t in text.replace(",", " ").split()]
    return list(dict.fromkeys(t for t in found if t))


class AnalyticsStore(DataSectionStore):
    tickers = param.List(default=list(DEFAULT_TICKERS), item_type=str)
    range_name: str = param.Selector(  # type: ignore[assignment]
        default=DEFAULT_RANGE, objects=DAILY_RANGES
    )
    source: str = param.Selector(default="aggregated", objects=SOURCES)  # type: ignore[assignment]
    threshold = param.Number(default=0.3, bounds=(-1.0, 1.0), step=0.05)
    max_lag = param.Integer(default=5, bounds=(1, 10))
    window = param.Integer(default=5, bounds=(1, 10), doc="event-study days either side")
    panel = param.DataFrame(default=None, allow_None=True)
    report = param.ClassSelector(class_=AnalyticsReport, allow_None=True)
    requests = param.List(default=[], doc="the API calls the last load made")
    problem = param.ClassSelector(class_=Problem, allow_None=True)
    loading = param.Boolean(default=False)
    loads = param.Integer(default=0, doc="completed loads")

    def __init__(
        self,
        client: ApiClient,
        session: SessionStore | None = None,
        operator_token: OperatorToken | None = None,
        watchlist: list[str] | None = None,
        **params: Any,
    ) -> None:
        if watchlist:
            params.setdefault("tickers", list(watchlist))
        super().__init__(client, operator_token, **params)
        self.session = session

    async def show_default(self) -> None:
        """The default watchlist analysed without a click."""
        if self.session is not None:
            # Prices the API has not cached yet are fetched for a session only.
            await self.session.ensure()
        await self.load()

    async def load(self) -> None:
        if not self.tickers:
            self.problem = Problem(0, "NOTHING_CHOSEN", "name at least one ticker")
            return
        bearer = self.session.bearer if self.session else None
        self.loading = True
        try:
            answers = await asyncio.gather(
                *(
                    asyncio.gather(
                        self.client.ohlc(t, self.range_name, bearer),
                        self.client.sentiment_history(t, self.range_name, self.source),
                    )
                    for t in self.tickers
                )
            )
        finally:
            self.loading = False
        panels: list[pd.DataFrame] = []
        problem: Problem | None = None
        requests: list[str] = []
        for ticker, (prices, history) in zip(self.tickers, answers, strict=True):
            requests += [prices.request, history.request]
            if not (prices.ok and history.ok):
                problem = problem or prices.problem or history.problem
                continue
            panels.append(panel_from_answers(ticker, prices.body, history.body))
        self.rerun(stack_panels(panels), problem=problem, requests=requests)
        report = self.report
        if report is not None and report.days > 0 and report.days_with_sentiment == 0:
            await self.empty.explain("No sentiment history yet")
        else:
            self.empty.clear()

    def rerun(
        self,
        panel: pd.DataFrame | None = None,
        *,
        problem: Problem | None = None,
        requests: list[str] | None = None,
    ) -> None:
        """Analyse `panel` (or the one loaded last, e.g. after a new threshold)."""
        data = self.panel if panel is None else panel
        if data is None:
            return
        report = analyze_panel(
            data, threshold=self.threshold, max_lag=self.max_lag, window=self.window
        )
        self.param.update(
            panel=data,
            report=report,
            problem=problem if panel is not None else self.problem,
            requests=requests if requests is not None else self.requests,
            loads=self.loads + (1 if panel is not None else 0),
        )
