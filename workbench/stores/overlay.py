"""Prices and sentiment history of one ticker over one range, for the overlay chart."""

from __future__ import annotations

import asyncio
from typing import Any

import pandas as pd
import param

from workbench.client import ApiClient, Problem
from workbench.stores.configurations import ConfigurationsStore
from workbench.stores.empty import DataSectionStore
from workbench.stores.operator import OperatorToken
from workbench.stores.schema import SchemaStore

CANDLE_COLUMNS = ["date", "open", "high", "low", "close", "volume"]
HISTORY_COLUMNS = ["date", "score", "label", "confidence", "count", "source"]
# The range drawn on open: a quarter of daily candles, when the API offers it.
DEFAULT_RANGE = "3M"


def _naive_utc(values: pd.Series) -> pd.Series:
    # Daily points come as dates, intraday ones as UTC times; Bokeh's datetime axis wants
    # naive timestamps, read as UTC.
    return pd.to_datetime(values, utc=True, format="ISO8601").dt.tz_localize(None)


def candle_frame(body: Any) -> pd.DataFrame:
    candles = body.get("candles", []) if isinstance(body, dict) else []
    frame = pd.DataFrame(candles, columns=CANDLE_COLUMNS)
    frame["date"] = _naive_utc(frame["date"])
    return frame.sort_values("date", ignore_index=True)


def history_frame(body: Any) -> pd.DataFrame:
    points = body.get("history", []) if isinstance(body, dict) else []
    frame = pd.DataFrame(points, columns=HISTORY_COLUMNS)
    frame["date"] = _naive_utc(frame["date"])
    return frame.sort_values("date", ignore_index=True)


class OverlayStore(DataSectionStore):
    configurations: ConfigurationsStore = param.ClassSelector(  # type: ignore[assignment]
        class_=ConfigurationsStore
    )
    schema: SchemaStore = param.ClassSelector(class_=SchemaStore)  # type: ignore[assignment]
    tickers = param.List(default=[], doc="the user's configurations' tickers, then the watchlist")
    watchlist = param.List(default=[], item_type=str, doc="the API's DEFAULT_WATCHLIST")
    # None while a widget has nothing to offer yet (no configuration, no API document).
    ticker = param.String(default=None, allow_None=True)
    range_name = param.String(default=None, allow_None=True)
    source = param.String(default=None, allow_None=True)
    candles = param.DataFrame(default=None, allow_None=True)
    history = param.DataFrame(default=None, allow_None=True)
    prices_info = param.Dict(default={}, doc="where the candles came from, and their cache")
    history_info = param.Dict(default={})
    problem = param.ClassSelector(class_=Problem, allow_None=True)
    loads = param.Integer(default=0, doc="completed loads")

    def __init__(
        self, client: ApiClient, operator_token: OperatorToken | None = None, **params: Any
    ) -> None:
        super().__init__(client, operator_token, **params)
        self.configurations.param.watch(self._follow_list, "configurations")
        self.schema.param.watch(self._follow_schema, ["default_range", "default_source"])
        self._offer([])
        self._follow_schema()
        # Loads asked for so far: only the latest one's answers are drawn.
        self._asked = 0

    def _follow_list(self, event: param.parameterized.Event) -> None:
        self._offer(sorted({str(t) for c in event.new for t in c.get("tickers", [])}))

    def _offer(self, configured: list[str]) -> None:
        symbols = list(dict.fromkeys([*configured, *self.watchlist]))
        self.tickers = symbols
        if self.ticker not in symbols:
            first = self.watchlist[0] if self.watchlist else (symbols[0] if symbols else None)
            self.ticker = first

    def _follow_schema(self, *_: param.parameterized.Event) -> None:
        ranges = self.schema.ranges
        opening = DEFAULT_RANGE if DEFAULT_RANGE in ranges else self.schema.default_range
        self.param.update(
            range_name=self.range_name or opening or None,
            source=self.source or self.schema.default_source or None,
        )

    async def show_default(self) -> None:
        """The watchlist's first ticker over 3M, drawn without a click (prices the API has
        not cached yet are fetched for a session only)."""
        if not self.schema.ranges:
            await self.schema.load()
        await self.configurations.ensure_listed()
        await self.load()

    async def load(self) -> None:
        if not (self.ticker and self.range_name and self.source):
            self.problem = Problem(0, "NOTHING_CHOSEN", "choose a ticker (from a configuration)")
            return
        self._asked += 1
        asked = self._asked
        prices, history = await asyncio.gather(
            self.client.ohlc(self.ticker, self.range_name, self.configurations.session.bearer),
            self.client.sentiment_history(self.ticker, self.range_name, self.source),
        )
        if asked != self._asked:
            # A newer choice (a range pressed while the section's first chart was loading)
            # was asked for meanwhile: its answers are the ones to draw, whichever comes last.
            return
        body = prices.body if isinstance(prices.body, dict) else {}
        found = history.body if isinstance(history.body, dict) else {}
        self.param.update(
            candles=candle_frame(body) if prices.ok else None,
            history=history_frame(found) if history.ok else None,
            prices_info={
                "request": prices.request,
                "x_cache": prices.cache or "",
                **{k: body.get(k) for k in ("ticker", "source", "cache_layer", "resolution")},
                "range": body.get("range"),
                **{k: body.get(k) for k in ("range_limited", "stale", "count")},
            },
            history_info={
                "request": history.request,
                **{k: found.get(k) for k in ("source", "resolution", "count")},
            },
            problem=prices.problem or history.problem,
            loads=self.loads + 1,
        )
        if history.ok and self.history is not None and self.history.empty:
            await self.empty.explain(f"No {self.source} sentiment for {self.ticker} yet")
        else:
            self.empty.clear()
