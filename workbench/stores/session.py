"""Who the workbench is signed in as: the bearer token, and what `/api/v2/auth/me` says."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import param

from workbench.client import ApiClient, ApiResult, Problem
from workbench.stores.calls import call_view

Listener = Callable[[], Awaitable[None]]


class SessionStore(param.Parameterized):
    user_id = param.String(default="")
    auth_type = param.String(default="", doc="anonymous | email | oauth; empty: signed out")
    email = param.String(default="")
    session_expires_at = param.String(default="")
    limits = param.Dict(default={}, doc="`limits` of /auth/me")
    limits_seen = param.Dict(
        default={}, doc="max configurations per kind (anonymous | account) as /auth/me said"
    )
    last_call = param.Dict(default={}, doc="the last sign-in call, tokens masked")
    problem = param.ClassSelector(class_=Problem, allow_None=True)
    generation = param.Integer(default=0, doc="bumped each time the identity changes")

    def __init__(self, client: ApiClient, **params: Any) -> None:
        super().__init__(**params)
        self.client = client
        # The bearer is kept off the params: Panel may serialise params to the browser.
        self._token: str | None = None
        self._listeners: list[Listener] = []
        self._starting: asyncio.Lock | None = None

    @property
    def bearer(self) -> str | None:
        return self._token

    @property
    def signed_in(self) -> bool:
        return self._token is not None and bool(self.user_id)

    def subscribe(self, listener: Listener) -> None:
        """`listener` is awaited after every change of identity (sign-in, sign-out)."""
        self._listeners.append(listener)

    async def ensure(self) -> bool:
        """Signed in, starting an anonymous session when there is none: the sections that
        need a session (prices, sentiment) show their default at once. True when signed in."""
        if self.signed_in:
            return True
        # Two sections opening together start one session, not two.
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            if not self.signed_in:
                await self.start_anonymous()
        return self.signed_in

    async def start_anonymous(self) -> None:
        result = await self.client.anonymous_session()
        self.last_call = call_view(result)
        if not result.ok:
            self.problem = result.problem
            return
        await self.adopt(str(result.body["token"]))

    async def adopt(self, token: str) -> None:
        """Use `token` from now on (a session the API just issued)."""
        self._token = token
        self.problem = None
        await self.refresh_me()
        await self._changed()

    async def refresh_me(self) -> None:
        if self._token is None:
            self._clear()
            return
        result = await self.client.me(self._token)
        if not result.ok:
            if result.status_code == 401:
                # Expired or revoked elsewhere (a conversion revokes the anonymous token).
                self._token = None
                self._clear()
            self.problem = result.problem
            return
        self._read_me(result)

    async def sign_out(self) -> None:
        if self._token is None:
            return
        result = await self.client.sign_out(self._token)
        self.last_call = call_view(result)
        self.problem = result.problem
        self._token = None
        self._clear()
        await self._changed()

    def _read_me(self, result: ApiResult) -> None:
        body = result.body if isinstance(result.body, dict) else {}
        limits = dict(body.get("limits") or {})
        auth_type = str(body.get("auth_type", ""))
        seen = dict(self.limits_seen)
        if "max_configurations" in limits:
            kind = "anonymous" if auth_type == "anonymous" else "account"
            seen[kind] = limits["max_configurations"]
        self.param.update(
            user_id=str(body.get("user_id", "")),
            auth_type=auth_type,
            email=str(body.get("email") or ""),
            session_expires_at=str(body.get("session_expires_at", "")),
            limits=limits,
            limits_seen=seen,
        )

    def _clear(self) -> None:
        self.param.update(user_id="", auth_type="", email="", session_expires_at="", limits={})

    async def _changed(self) -> None:
        self.generation += 1
        for listener in list(self._listeners):
            await listener()
