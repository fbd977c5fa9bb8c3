"""A configuration's current sentiment, per ticker and per source, with the sources' status."""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiClient, Problem
from workbench.stores.configurations import NOT_SIGNED_IN, ConfigurationsStore
from workbench.stores.empty import DataSectionStore
from workbench.stores.operator import OperatorToken

SOURCES = ("tiingo", "finnhub", "our_model", "aggregated")


def sentiment_rows(body: Any) -> list[dict[str, Any]]:
    """One row per ticker and source, in the order the API lists tickers."""
    rows: list[dict[str, Any]] = []
    tickers = body.get("tickers", []) if isinstance(body, dict) else []
    for ticker in tickers:
        sentiment = ticker.get("sentiment", {}) if isinstance(ticker, dict) else {}
        for source in SOURCES:
            view = sentiment.get(source)
            if not isinstance(view, dict):
                continue
            if source == "aggregated":
                used = ", ".join(view.get("used", [])) or "none"
                status = f"used: {used}; agreement {view.get('agreement', 0):.2f}"
            else:
                status = str(view.get("status", ""))
            rows.append(
                {
                    "ticker": str(ticker.get("symbol", "")),
                    "source": source,
                    "score": view.get("score"),
                    "label": view.get("label", ""),
                    "confidence": view.get("confidence"),
                    "count": view.get("count"),
                    "status": status,
                }
            )
    return rows


class SentimentStore(DataSectionStore):
    configurations: ConfigurationsStore = param.ClassSelector(  # type: ignore[assignment]
        class_=ConfigurationsStore
    )
    config_id = param.String(
        default=None, allow_None=True, doc="the configuration whose sentiment is shown"
    )
    rows = param.List(default=[])
    source_status = param.Dict(
        default={}, doc="tiingo / finnhub: ok | degraded | unavailable | not_entitled"
    )
    source_notes = param.Dict(default={}, doc="why a provider is not_entitled")
    cache = param.String(default="", doc="X-Cache of the answer")
    last_updated = param.String(default="")
    elapsed_ms = param.Number(default=None, allow_None=True)
    request = param.String(default="")
    problem = param.ClassSelector(class_=Problem, allow_None=True)

    def __init__(
        self, client: ApiClient, operator_token: OperatorToken | None = None, **params: Any
    ) -> None:
        super().__init__(client, operator_token, **params)
        self.configurations.param.watch(self._follow_list, "configurations")

    async def show_default(self) -> None:
        """The session's configuration (a sample one from the default watchlist when it has
        none) and its sentiment."""
        await self.configurations.ensure_sample()
        if self.config_id:
            await self.load()
        else:
            self.problem = self.configurations.problem or self.configurations.session.problem

    def _follow_list(self, event: param.parameterized.Event) -> None:
        ids = [c.get("config_id") for c in event.new]
        if self.config_id not in ids:
            # The newest one: right after a create, that is the configuration just made.
            self.config_id = str(ids[-1]) if ids else None
            self.param.update(rows=[], source_status={}, source_notes={}, cache="", last_updated="")

    async def load(self) -> None:
        bearer = self.configurations.session.bearer
        if bearer is None:
            self.problem = NOT_SIGNED_IN
            return
        if not self.config_id:
            self.problem = Problem(0, "NO_CONFIGURATION", "create a configuration first")
            return
        result = await self.client.configuration_sentiment(bearer, self.config_id)
        if not result.ok:
            self.param.update(problem=result.problem, rows=[], request=result.request)
            return
        body = result.body if isinstance(result.body, dict) else {}
        self.param.update(
            rows=sentiment_rows(body),
            source_status=dict(body.get("source_status") or {}),
            source_notes=dict(body.get("source_notes") or {}),
            cache=result.cache or str(body.get("cache_status", "")),
            last_updated=str(body.get("last_updated", "")),
            elapsed_ms=round(result.elapsed_ms, 1),
            request=result.request,
            problem=None,
        )
        if any(isinstance(r["count"], int | float) and r["count"] > 0 for r in self.rows):
            self.empty.clear()
        else:
            await self.empty.explain("No sentiment yet")
