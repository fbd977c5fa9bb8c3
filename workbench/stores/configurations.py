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
# A session without a configuration gets this one, from the default watchlist, once.
SAMPLE_NAME = "Default watchlist"
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
    watchlist = param.List(default=[], item_type=str, doc="the API's DEFAULT_WATCHLIST")

    def __init__(self, client: ApiClient, **params: Any) -> None:
        super().__init__(**params)
        self.client = client
        self._shown = False
        self._sample_tried = False
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

    @property
    def listed(self) -> bool:
        """The list of the current identity has been read."""
        return self.max_allowed is not None

    async def first_show(self) -> None:
        """The section's default: a session (anonymous when there is none) and its list.
        Later calls read nothing: the form and its buttons take over."""
        if self._shown:
            return
        self._shown = True
        await self.ensure_listed()

    async def ensure_listed(self) -> bool:
        """Signed in and listed; True when the list could be read."""
        if not await self.session.ensure():
            self.problem = self.session.problem or NOT_SIGNED_IN
            return False
        if not self.listed:
            await self.load()
        return self.listed

    async def ensure_sample(self) -> None:
        """A configuration to show: the session's own, else a sample one made once from the
        default watchlist (as many of its tickers as a configuration may hold)."""
        if not await self.ensure_listed() or self.configurations or self._sample_tried:
            return
        bearer = self.session.bearer
        most = self.session.limits.get("max_tickers_per_configuration")
        tickers = list(self.watchlist or EXAMPLE_TICKERS)
        if isinstance(most, int) and most > 0:
            tickers = tickers[:most]
        if bearer is None:
            return
        self._sample_tried = True
        result = await self.client.create_configuration(bearer, SAMPLE_NAME, tickers)
        if self._answered(result, "created from the default watchlist"):
            await self._load_with(result)

    async def create(self) -> None:
        bearer = self._bearer()
        if bearer is None:
            return
        result = await self.client.create_configuration(
            bearer, self.config_name, list(self.tickers)
        )
        if self._answered(result, "created"):
            await self._load_with(result)

    async def save(self) -> None:
        bearer = self._bearer()
        if bearer is None or not self.editing_id:
            return
        result = await self.client.update_configuration(
            bearer, self.editing_id, self.config_name, list(self.tickers)
        )
        if self._answered(result, "saved"):
            self.editing_id = ""
            await self._load_with(result)

    async def delete(self, config_id: str) -> None:
        bearer = self._bearer()
        if bearer is None:
            return
        result = await self.client.delete_configuration(bearer, config_id)
        if self._answered(result, "deleted (soft: kept for audit, hidden from reads)"):
            if self.editing_id == config_id:
                self.editing_id = ""
            await self.load()
            # (As for a change: another environment's cached list can still hold it.)
            kept = [c for c in self.configurations if c.get("config_id") != config_id]
            if len(kept) != len(self.configurations):
                self.configurations = kept

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

    async def _load_with(self, changed: ApiResult) -> None:
        """The list again, with the configuration a create or an update just answered: the
        list may come from another execution environment, whose cached copy can lag a change
        for its TTL, and the change's own answer is the newer one."""
        await self.load()
        config = changed.body if isinstance(changed.body, dict) else {}
        config_id = config.get("config_id")
        if not config_id:
            return
        if config in self.configurations:
            return
        ids = [c.get("config_id") for c in self.configurations]
        listed = list(self.configurations)
        if config_id in ids:
            listed[ids.index(config_id)] = config
        else:
            listed.append(config)
        self.configurations = listed

    def _answered(self, result: ApiResult, done: str) -> bool:
        body = result.body if isinstance(result.body, dict) else {}
        what = f"{body.get('name', '')!r} " if body.get("name") else ""
        self.param.update(
            last_call=call_view(result),
            problem=result.problem,
            notice=f"{what}{done}" if result.ok else "",
        )
        return result.ok
