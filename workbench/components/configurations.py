"""Watchlists: the business rules as the API states them, a create/edit form with ticker
search, and the list with edit and delete."""

from __future__ import annotations

from functools import partial
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.format import md_code, md_text, problem_markdown
from workbench.stores.configurations import ConfigurationsStore
from workbench.stores.schema import SchemaStore


class ConfigurationsPanel(Viewer):
    store: ConfigurationsStore = param.ClassSelector(  # type: ignore[assignment]
        class_=ConfigurationsStore
    )
    schema: SchemaStore = param.ClassSelector(class_=SchemaStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        store = self.store
        self.name_input = pn.widgets.TextInput.from_param(
            store.param.config_name, label="Name", placeholder="Tech Watchlist"
        )
        self.tickers_input = pn.widgets.MultiChoice.from_param(
            store.param.tickers, label="Tickers", options=self._ticker_options()
        )
        self.query_input = pn.widgets.TextInput.from_param(
            store.param.query, label="Search tickers", placeholder="symbol or company name"
        )
        self.search_button = pn.widgets.Button(label="Search", align="end")
        self.create_button = pn.widgets.Button(label="Create", color="primary")
        self.save_button = pn.widgets.Button(label="Save changes", color="success")
        self.cancel_button = pn.widgets.Button(label="Cancel edit")
        self.search_button.on_click(self._search)
        self.create_button.on_click(self._create)
        self.save_button.on_click(self._save)
        self.cancel_button.on_click(lambda _: self.store.cancel_edit())
        store.param.watch(self._refresh_options, ["search_results", "tickers"])
        store.param.watch(self._show_edit_buttons, "editing_id")
        self._show_edit_buttons()

    def _ticker_options(self) -> list[str]:
        found = [str(r.get("symbol", "")) for r in self.store.search_results]
        return sorted({*self.store.tickers, *found} - {""})

    def _refresh_options(self, *_: Any) -> None:
        self.tickers_input.options = self._ticker_options()

    def _show_edit_buttons(self, *_: Any) -> None:
        editing = bool(self.store.editing_id)
        self.create_button.visible = not editing
        self.save_button.visible = self.cancel_button.visible = editing

    async def _search(self, _: Any) -> None:
        await self.store.search()

    async def _create(self, _: Any) -> None:
        await self.store.create()

    async def _save(self, _: Any) -> None:
        await self.store.save()

    def _edit(self, config_id: str, _: Any) -> None:
        self.store.edit(config_id)

    async def _delete(self, config_id: str, _: Any) -> None:
        await self.store.delete(config_id)

    @param.depends(
        "store.session.limits_seen", "store.session.limits", "schema.configuration_fields"
    )
    def rules(self) -> str:
        seen = self.store.session.limits_seen
        limits = self.store.session.limits
        fields = self.schema.configuration_fields

        def limit(kind: str, how: str) -> str:
            if kind in seen:
                return f"**{md_text(seen[kind])}**"
            return f"_{how} to read it from the API_"

        def rule(field: str) -> str:
            described = fields.get(field)
            return md_text(described) if described else "_loading the API document_"

        tickers = limits.get("max_tickers_per_configuration")
        return "\n".join(
            [
                "**Business rules** (as the API states them)",
                f"- Configurations per anonymous session: {limit('anonymous', 'start one')}",
                f"- Configurations per account: {limit('account', 'sign in as an account')}",
                "- Tickers per configuration: "
                + (f"at most **{md_text(tickers)}**" if tickers else "_sign in to read it_"),
                f"- Name: {rule('name')}",
                f"- Tickers: {rule('tickers')}, each validated against the exchange list",
                "- Deletes are soft: kept for audit, hidden from reads",
                "",
                "<small>Limits from `GET /api/v2/auth/me` of each kind of identity this page "
                "has signed in as; field rules from `GET /api/v2/openapi.json`.</small>",
            ]
        )

    @param.depends("store.search_results")
    def search_results(self) -> str:
        results = self.store.search_results
        if not results:
            return ""
        rows = ["| symbol | name | exchange | sector |", "|---|---|---|---|"]
        rows += [
            f"| **{md_text(r.get('symbol'))}** | {md_text(r.get('name'))} "
            f"| {md_text(r.get('exchange'))} | {md_text(r.get('sector'))} |"
            for r in results
        ]
        return "\n".join([*rows, "", "Pick them in **Tickers** above."])

    @param.depends("store.problem", "store.notice")
    def outcome(self) -> str:
        if self.store.problem is not None:
            return problem_markdown(self.store.problem)
        return f"✔ {md_text(self.store.notice)}" if self.store.notice else ""

    @param.depends("store.configurations", "store.max_allowed", "store.list_cache")
    def listing(self) -> pn.viewable.Viewable:
        store = self.store
        if store.max_allowed is None:
            return pn.pane.Markdown("Sign in to list your configurations.")
        heading = (
            f"**{len(store.configurations)} of {md_text(store.max_allowed)}** configuration(s). "
            f"`GET /api/v2/configurations` X-Cache: **{md_text(store.list_cache or '-')}**"
        )
        rows: list[Any] = [pn.pane.Markdown(heading, sizing_mode="stretch_width")]
        for config in store.configurations:
            config_id = str(config.get("config_id"))
            edit = pn.widgets.Button(label="Edit", width=70)
            edit.on_click(partial(self._edit, config_id))
            delete = pn.widgets.Button(label="Delete", color="danger", width=70)
            delete.on_click(partial(self._delete, config_id))
            # The name is whatever its owner typed: text, never Markdown or HTML.
            tickers = ", ".join(str(t) for t in config.get("tickers", []))
            summary = (
                f"**{md_text(config.get('name'))}**: {md_text(tickers)} "
                f"<small>(version {md_text(config.get('version'))}, updated "
                f"{md_text(config.get('updated_at'))}, id {md_code(config_id)})</small>"
            )
            rows.append(pn.Row(pn.pane.Markdown(summary), edit, delete))
        return pn.Column(*rows, sizing_mode="stretch_width")

    def __panel__(self) -> pn.viewable.Viewable:
        form = pn.Column(
            "#### Create or edit (`POST` / `PATCH /api/v2/configurations`)",
            self.name_input,
            self.tickers_input,
            pn.Row(self.query_input, self.search_button),
            pn.pane.Markdown(self.search_results, sizing_mode="stretch_width"),
            pn.Row(self.create_button, self.save_button, self.cancel_button),
            pn.pane.Markdown(self.outcome, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
        return pn.Column(
            "## Configuration Management",
            "User-defined watchlists with ticker tracking.",
            pn.Row(pn.pane.Markdown(self.rules, sizing_mode="stretch_width"), form),
            "#### Your configurations",
            pn.panel(self.listing),
            sizing_mode="stretch_width",
        )
