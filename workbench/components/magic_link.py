"""The magic-link journey: e-mail, outbox, verify with the current bearer, merge report; and
the confirmation a page opened with a link asks for before signing in."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.format import (
    call_markdown,
    md_code,
    md_text,
    merge_markdown,
    problem_markdown,
)
from workbench.stores.magic_link import MagicLinkStore


class MagicLinkPanel(Viewer):
    store: MagicLinkStore = param.ClassSelector(class_=MagicLinkStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.email_input = pn.widgets.TextInput.from_param(
            self.store.param.email, label="E-mail", placeholder="you@example.com"
        )
        self.send_button = pn.widgets.Button(label="Send link", color="primary", align="end")
        self.send_button.on_click(self._send)
        self.outbox_button = pn.widgets.Button(label="Refresh outbox")
        self.outbox_button.on_click(self._read_outbox)
        self.verify_button = pn.widgets.Button(label="Verify link", color="success")
        self.verify_button.on_click(self._verify)
        self.confirm_button = pn.widgets.Button(label="Yes, sign me in", color="primary")
        self.confirm_button.on_click(self._confirm)
        self.dismiss_button = pn.widgets.Button(label="Not me")
        self.dismiss_button.on_click(lambda _: self.store.dismiss_link())
        self.confirmation = pn.Column(
            pn.pane.Markdown(self.question, sizing_mode="stretch_width"),
            pn.Row(self.confirm_button, self.dismiss_button),
            sizing_mode="stretch_width",
            visible=bool(self.store.pending_hint),
        )
        self.store.param.watch(self._show_confirmation, "pending_hint")

    def _show_confirmation(self, *_: Any) -> None:
        self.confirmation.visible = bool(self.store.pending_hint)

    async def _confirm(self, _: Any) -> None:
        await self.store.confirm_link()

    async def _send(self, _: Any) -> None:
        await self.store.request_link()

    async def _read_outbox(self, _: Any) -> None:
        await self.store.read_outbox()

    async def _verify(self, _: Any) -> None:
        await self.store.verify()

    @param.depends("store.pending_hint")
    def question(self) -> str:
        if not self.store.pending_hint:
            return ""
        return (
            f"#### Sign in as {md_text(self.store.pending_hint)}?\n\n"
            "This page was opened with a sign-in link. Confirm only if this is your address: "
            "a link someone else sent would sign you in to *their* account, and take this "
            "page's anonymous data with it."
        )

    @param.depends("store.sent")
    def sent(self) -> str:
        sent = self.store.sent
        answer = sent.get("body")
        expires = answer.get("expires_in_seconds") if isinstance(answer, dict) else None
        heading = call_markdown(sent, empty="No link requested yet.", body=False)
        return f"{heading}: link valid for {md_text(expires)} s" if expires else heading

    @param.depends("store.outbox", "store.outbox_note")
    def outbox(self) -> str:
        if not self.store.outbox:
            return md_text(self.store.outbox_note) or "The outbox is empty (or not read yet)."
        rows = ["| to | subject | received | link |", "|---|---|---|---|"]
        rows += [
            f"| {md_text(m['to'])} | {md_text(m['subject'])} | {md_text(m['received_at'])} "
            f"| {md_code(m['link'], cell=True)} |"
            for m in self.store.outbox
        ]
        return "\n".join([*rows, "", f"<small>{md_text(self.store.outbox_note)}</small>"])

    @param.depends("store.verified", "store.merge", "store.problem")
    def verified(self) -> str:
        parts = [
            problem_markdown(self.store.problem),
            merge_markdown(self.store.merge),
            call_markdown(self.store.verified, empty="", body=False),
        ]
        return "\n\n".join(p for p in parts if p)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self.confirmation,
            "### Magic link",
            "`POST /api/v2/auth/magic-link` sends a single-use link through SendGrid; locally it "
            "lands in the SendGrid emulator's outbox. **Verify** takes the token from the newest "
            "link to this address and calls `POST /api/v2/auth/magic-link/verify` with the "
            "current bearer, so an anonymous session's data joins the account.",
            pn.Row(self.email_input, self.send_button),
            pn.pane.Markdown(self.sent, sizing_mode="stretch_width"),
            "#### Outbox (`GET <sendgrid_url>/_emulator/outbox`)",
            self.outbox_button,
            pn.pane.Markdown(self.outbox, sizing_mode="stretch_width"),
            self.verify_button,
            pn.pane.Markdown(self.verified, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
