"""Anonymous sessions ("Try it"), the current identity with its limits, and sign-out."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.format import call_markdown, md_code, md_text, problem_markdown
from workbench.stores.session import SessionStore


class SessionPanel(Viewer):
    session: SessionStore = param.ClassSelector(class_=SessionStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.try_button = pn.widgets.Button(label="Try it", color="primary")
        self.try_button.on_click(self._try)
        self.sign_out_button = pn.widgets.Button(label="Sign out", color="warning")
        self.sign_out_button.on_click(self._sign_out)

    async def _try(self, _: Any) -> None:
        await self.session.start_anonymous()

    async def _sign_out(self, _: Any) -> None:
        await self.session.sign_out()

    @param.depends("session.last_call")
    def last_call(self) -> str:
        return call_markdown(
            self.session.last_call, empty='Click "Try it" to create an anonymous session.'
        )

    @param.depends("session.user_id", "session.limits", "session.problem")
    def identity(self) -> str:
        session = self.session
        problem = problem_markdown(session.problem)
        if not session.user_id:
            return "\n\n".join(filter(None, ["Not signed in.", problem]))
        limits = session.limits
        rows = [
            "| | |",
            "|---|---|",
            f"| user | {md_code(session.user_id, cell=True)} |",
            f"| kind | **{md_text(session.auth_type)}** |",
            f"| e-mail | {md_text(session.email or '-')} |",
            f"| session expires | {md_text(session.session_expires_at)} |",
            f"| configurations | {md_text(limits.get('configurations_used', '?'))} used "
            f"of {md_text(limits.get('max_configurations', '?'))} |",
            "| tickers per configuration "
            f"| {md_text(limits.get('max_tickers_per_configuration', '?'))} |",
            f"| alerts | {md_text(limits.get('alerts', '?'))} |",
        ]
        return "\n".join([*rows, "", problem])

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "### Try it: create an anonymous session",
            "`POST /api/v2/auth/anonymous`: a quick start with the anonymous limits below.",
            self.try_button,
            pn.pane.Markdown(self.last_call, sizing_mode="stretch_width"),
            "### Current identity and its limits",
            "`GET /api/v2/auth/me`, read after every sign-in.",
            pn.pane.Markdown(self.identity, sizing_mode="stretch_width"),
            self.sign_out_button,
            sizing_mode="stretch_width",
        )
