"""The magic-link journey: ask for a link, read it in the SendGrid emulator's outbox, verify it.

Verifying sends the current bearer along, so an anonymous session's data is converted into the
account; the API's merge report says what happened to it.

A page opened with `?magic_token=` does not verify on load: a link is not bound to the browser
that asked for it, so anyone could send one for their own account and sign the reader in as
themselves (login CSRF). `open_link` asks the API who the link is for and shows the masked
address; only `confirm_link`, the person's click, verifies it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import param

from workbench.client import ApiClient, Problem
from workbench.stores.calls import call_view, mask
from workbench.stores.session import SessionStore

_URL = re.compile(r"https?://[^\s\"'<>]+")
LINK_PARAMETER = "magic_token"
OUTBOX_SHOWN = 10


def link_token(text: str) -> str | None:
    """The `magic_token` of the first link in an e-mail's text, if it has one."""
    for url in _URL.findall(text):
        found = parse_qs(urlsplit(url).query).get(LINK_PARAMETER)
        if found:
            return str(found[0])
    return None


class MagicLinkStore(param.Parameterized):
    session: SessionStore = param.ClassSelector(class_=SessionStore)  # type: ignore[assignment]
    email = param.String(default="", doc="where to send the link")
    sent = param.Dict(default={}, doc="the last link request")
    outbox = param.List(default=[], doc="newest first: to, subject, received_at, token hint")
    outbox_note = param.String(default="")
    verified = param.Dict(default={}, doc="the last verification call")
    merge = param.Dict(default={}, doc="`merged` of the last sign-in")
    problem = param.ClassSelector(class_=Problem, allow_None=True)
    pending_hint = param.String(
        default="", doc="the masked address of the link the page was opened with, unconfirmed"
    )

    def __init__(
        self, client: ApiClient, sendgrid_url: Callable[[], str | None], **params: Any
    ) -> None:
        super().__init__(**params)
        self.client = client
        self._sendgrid_url = sendgrid_url
        # The tokens themselves stay here; the params only hold hints of them.
        self._tokens: list[tuple[tuple[str, ...], str]] = []
        self._pending_token: str | None = None

    async def open_link(self, token: str) -> None:
        """The link the page was opened with: ask who it is for, then wait for a click."""
        result = await self.client.preview_magic_link(token)
        body = result.body if isinstance(result.body, dict) else {}
        if not result.ok:
            self._pending_token = None
            self.param.update(pending_hint="", verified=call_view(result), problem=result.problem)
            return
        self._pending_token = token
        self.param.update(pending_hint=str(body.get("email_hint", "")), problem=None)

    async def confirm_link(self) -> None:
        """The person confirmed the address is theirs: use the link now."""
        token, self._pending_token = self._pending_token, None
        self.pending_hint = ""
        if token is not None:
            await self.verify(token)

    def dismiss_link(self) -> None:
        """Not their address: forget the link unused (it expires on its own)."""
        self._pending_token = None
        self.pending_hint = ""

    async def request_link(self) -> None:
        result = await self.client.request_magic_link(self.email.strip(), self.session.bearer)
        self.param.update(sent=call_view(result), problem=result.problem)
        if result.ok:
            await self.read_outbox()

    async def read_outbox(self) -> None:
        url = self._sendgrid_url()
        if url is None:
            self.outbox_note = "no SendGrid emulator here (sendgrid_url is not in stack.json)"
            return
        result = await self.client.outbox(url)
        if not result.ok or not isinstance(result.body, list):
            problem = result.problem
            self.outbox_note = f"the outbox did not answer: {problem.message if problem else ''}"
            return
        messages, tokens = [], []
        for message in reversed(result.body[-OUTBOX_SHOWN:]):
            if not isinstance(message, dict):
                continue
            recipients = tuple(str(to).lower() for to in message.get("to", []))
            token = link_token(str(message.get("text") or message.get("html") or ""))
            if token:
                tokens.append((recipients, token))
            messages.append(
                {
                    "to": ", ".join(recipients),
                    "subject": str(message.get("subject", "")),
                    "received_at": str(message.get("received_at", "")),
                    "link": f"?{LINK_PARAMETER}={mask(token)}" if token else "(no link)",
                }
            )
        self._tokens = tokens
        self.param.update(outbox=messages, outbox_note=f"{len(result.body)} message(s) in all")

    def latest_token(self) -> str | None:
        """The newest link sent to the address typed, else the newest link of all."""
        address = self.email.strip().lower()
        for recipients, token in self._tokens:
            if not address or address in recipients:
                return token
        return None

    async def verify(self, token: str | None = None) -> None:
        token = token or self.latest_token()
        if token is None:
            self.problem = Problem(0, "NO_LINK", "no sign-in link in the outbox for this address")
            return
        result = await self.client.verify_magic_link(token, self.session.bearer)
        body = result.body if isinstance(result.body, dict) else {}
        self.param.update(
            verified=call_view(result),
            merge=dict(body.get("merged") or {}) if result.ok else {},
            problem=result.problem,
        )
        if result.ok:
            await self.session.adopt(str(body["token"]))
