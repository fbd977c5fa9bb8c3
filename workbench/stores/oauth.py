"""The OAuth journey (Google through Cognito; locally the OIDC emulator).

The workbench follows the authorize URL itself, server-side: the emulator signs its test
identity in without a form and answers with a redirect to the workbench carrying `code` and
`state`, which are posted to `/api/v2/auth/oauth/callback` with the same bearer that asked
for the URL and the `binding` of the URLs' answer, kept here (never on a param, never in a
URL): the API accepts a state only from the browser that asked for it.

A page opened with `?code=&state=` holds no binding for that state (it was asked for
elsewhere, or by an earlier page), so the API refuses it (400 `STATE_MISMATCH`): a sign-in
someone else started cannot be finished in this browser (login CSRF).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import param

from workbench.client import ApiClient, ApiResult, Problem, problem_of
from workbench.stores.calls import call_view, mask
from workbench.stores.session import SessionStore

# Values of an authorize or redirect URL that are single-use secrets of this sign-in.
_SECRET_PARAMETERS = frozenset({"state", "nonce", "code_challenge", "code"})


def shown_url(url: str) -> str:
    """`url` with its one-time values masked, for the page."""
    parts = urlsplit(url)
    # Joined by hand, not urlencoded: this is for reading, and the masks are not URL-safe.
    query = "&".join(
        f"{k}={mask(v) if k in _SECRET_PARAMETERS else v}" for k, v in parse_qsl(parts.query)
    )
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return f"{base}?{query}" if query else base


class OAuthStore(param.Parameterized):
    session: SessionStore = param.ClassSelector(class_=SessionStore)  # type: ignore[assignment]
    provider = param.String(default="google")
    login_hint = param.String(default="", doc="who the emulator signs in; empty: its default")
    steps = param.List(default=[], doc="each step of the last sign-in: request, status, detail")
    merge = param.Dict(default={}, doc="`merged` of the last sign-in")
    problem = param.ClassSelector(class_=Problem, allow_None=True)

    def __init__(self, client: ApiClient, **params: Any) -> None:
        super().__init__(**params)
        self.client = client
        # state -> the binding of the answer that issued it (secrets: kept off the params).
        self._bindings: dict[str, str] = {}

    async def sign_in(self) -> None:
        self.param.update(steps=[], merge={}, problem=None)
        bearer = self.session.bearer
        urls = await self.client.oauth_urls(bearer)
        self._step(urls, "authorize URL issued with a fresh state")
        if not urls.ok:
            self.problem = urls.problem
            return
        providers = urls.body.get("providers", {}) if isinstance(urls.body, dict) else {}
        url = str(providers.get(self.provider, {}).get("authorize_url", ""))
        if not url:
            self.problem = Problem(0, "NO_PROVIDER", f"the API offers no {self.provider} sign-in")
            return
        state = parse_qs(urlsplit(url).query).get("state", [""])[0]
        binding = urls.body.get("binding")
        if isinstance(binding, str) and binding:
            self._bindings[state] = binding
        if self.login_hint.strip():
            url = f"{url}&{urlencode({'login_hint': self.login_hint.strip()})}"
        redirect = await self.client.authorize(url)
        location = redirect.headers.get("location", "")
        answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        back_to = urlsplit(location).path
        self._step(redirect, f"redirected to {back_to} with code and state" if location else "")
        if "code" not in answer or "state" not in answer:
            self.problem = (
                Problem(redirect.status_code, answer["error"], answer.get("error_description", ""))
                if "error" in answer
                else redirect.problem or problem_of(redirect.status_code, redirect.body)
            )
            return
        await self.complete(answer["code"], answer["state"], bearer=bearer)

    async def complete(self, code: str, state: str, *, bearer: str | None = None) -> None:
        binding = self._bindings.pop(state, None)
        result = await self.client.oauth_callback(self.provider, code, state, bearer, binding)
        self._step(result, "code and state exchanged for a session")
        body = result.body if isinstance(result.body, dict) else {}
        self.param.update(
            merge=dict(body.get("merged") or {}) if result.ok else {}, problem=result.problem
        )
        if result.ok:
            await self.session.adopt(str(body["token"]))

    def _step(self, result: ApiResult, detail: str) -> None:
        view = call_view(result)
        request = view["request"]
        if " http" in request:
            method, url = request.split(" ", 1)
            request = f"{method} {shown_url(url)}"
        self.steps = [
            *self.steps,
            {"request": request, "status": view["status"], "detail": detail},
        ]
