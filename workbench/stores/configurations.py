"""Watchlists of the signed-in user: list, create, edit, delete, and ticker search.

The API enforces every rule; this store only shows its answers, errors included (the
envelope's message and the field it names), the way the person typing wants to read them.
"""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiClient, ApiResult, Problem
from workbench.stores.calls import call_view
from workbench.stores.session import SessionStore

# The seed page's example, so the first click creates something meaningful.
EXAMPLE_NAME = "Tech Watchlist"
EXAMPLE_TICKERS = ("AAPL", "MSFT", "NVDA")
NOT_SIGNED_IN = Problem(0, "NOT_SIGNED_IN", "start a session first (Authentication)")


class ConfigurationsStore(param.Parameterized):
    session: SessionStore = param.ClassSelector(class_=SessionStore)  # type: ignore[assignment]
    configurations = param.List(default=[], doc="as `GET /api/v2/configurations` lists them")
    max_allowed = param.Integer(default=None, allow_None=True)
    list_cache = param.String(default="", doc="X-Cache of the last list")
    config_name = param.String(default=EXAMPLE_NAME, doc="the form's name field")
    tickers = param.List(default=list(EXAMPLE_TICKERS), item_type=str)
    editing_id = param.String(default="", doc="the configuration the form edits; empty: new")
    query = param.String(default="", doc="ticker search text")
    search_results = param.List(default=[], doc="symbol, name, exchange, sector")
    last_call = param.Dict(default={})
    problem = param.ClassSelector(class_=Problem, allow_None=True)
    notice = param.String(default="", doc="what the last change did")

    def __init__(self, client: ApiClient, **params: Any) -> None:
        super().__init__(**params)
        self.client = client
        self.session.subscribe(self.load)

    async def load(self) -> None:
        bearer = self.session.bearer
        if bearer is None:
            self.param.update(configurations=[], max_allowed=None, list_cache="")
            return
        result = await self.client.list_configurations(bearer)
        if not result.ok:
            self.problem = result.problem
            return
        body = result.body if isinstance(result.body, dict) else {}
        self.param.update(
            configurations=list(body.get("configurations", [])),
            max_allowed=body.get("max_allowed"),
            list_cache=result.cache or "",
        )

    async def create(self) -> None:
        bearer = self._bearer()
        if bearer is None:
            return
        result = await self.client.create_configuration(
            bearer, self.config_name, list(self.tickers)
        )
        if self._answered(result, "created"):
            await self.load()

    async def save(self) -> None:
        bearer = self._bearer()
        if bearer is None or not self.editing_id:
            return
        result = await self.client.update_configuration(
            bearer, self.editing_id, self.config_name, list(self.tickers)
        )
        if self._answered(result, "saved"):
            self.editing_id = ""
            await self.load()

    async def delete(self, config_id: str) -> None:
        bearer = self._bearer()
        if bearer is None:
            return
        result = await self.client.delete_configuration(bearer, config_id)
        if self._answered(result, "deleted (soft: kept for audit, hidden from reads)"):
            if self.editing_id == config_id:
                self.editing_id = ""
            await self.load()

    def edit(self, config_id: str) -> None:
        chosen = next((c for c in self.configurations if c.get("config_id") == config_id), None)
        if chosen is not None:
            self.param.update(
                editing_id=config_id,
                config_name=str(chosen.get("name", "")),
                tickers=[str(t) for t in chosen.get("tickers", [])],
                problem=None,
            )

    def cancel_edit(self) -> None:
        self.param.update(editing_id="", problem=None)

    async def search(self) -> None:
        query = self.query.strip()
        if not query:
            self.search_results = []
            return
        result = await self.client.search_tickers(query)
        body = result.body if isinstance(result.body, dict) else {}
        self.param.update(
            search_results=list(body.get("results", [])) if result.ok else [],
            problem=result.problem,
        )

    def _bearer(self) -> str | None:
        if self.session.bearer is None:
            self.problem = NOT_SIGNED_IN
        return self.session.bearer

    def _answered(self, result: ApiResult, done: str) -> bool:
        body = result.body if isinstance(result.body, dict) else {}
        what = f"{body.get('name', '')!r} " if body.get("name") else ""
        self.param.update(
            last_call=call_view(result),
            problem=result.problem,
            notice=f"{what}{done}" if result.ok else "",
        )
        return result.ok
