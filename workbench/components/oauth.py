"""The OAuth journey: authorize URL, the provider's redirect, the callback and its merge report."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.format import md_code, md_text, merge_markdown, problem_markdown
from workbench.stores.oauth import OAuthStore


class OAuthPanel(Viewer):
    store: OAuthStore = param.ClassSelector(class_=OAuthStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.hint_input = pn.widgets.TextInput.from_param(
            self.store.param.login_hint,
            label="Sign in as (login_hint, optional)",
            placeholder="the emulator's default identity",
        )
        self.sign_in_button = pn.widgets.Button(
            label="Sign in with Google", color="primary", align="end"
        )
        self.sign_in_button.on_click(self._sign_in)

    async def _sign_in(self, _: Any) -> None:
        await self.store.sign_in()

    @param.depends("store.steps", "store.merge", "store.problem")
    def journey(self) -> str:
        if not self.store.steps:
            return "Not started."
        rows = ["| step | request | status | what happened |", "|---|---|---|---|"]
        rows += [
            f"| {n} | {md_code(s['request'], cell=True)} | {md_text(s['status'])} "
            f"| {md_text(s['detail'])} |"
            for n, s in enumerate(self.store.steps, start=1)
        ]
        parts = [
            "\n".join(rows),
            problem_markdown(self.store.problem),
            merge_markdown(self.store.merge),
        ]
        return "\n\n".join(p for p in parts if p)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "### OAuth 2.0 (Google through Cognito; locally the OIDC emulator)",
            "`GET /api/v2/auth/oauth/urls` gives an authorize URL with a server-side state, PKCE "
            "challenge and nonce. The workbench opens it itself; the provider answers with a "
            "redirect carrying `code` and `state`, which go to `POST /api/v2/auth/oauth/callback` "
            "with the same bearer that asked and the answer's `binding`, kept by this page: the "
            "API finishes a sign-in only in the browser that started it.",
            pn.Row(self.hint_input, self.sign_in_button),
            pn.pane.Markdown(self.journey, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
