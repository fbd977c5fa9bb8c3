"""The workbench's one way into the system: the public REST API, over HTTP.

Every call to the API is timed here and recorded in the client's `LatencyWindow`, which the
latency tiles read. The two local-emulator reads the sign-in journeys need (the SendGrid
outbox, the OIDC provider's redirect) go through the same client but are not API calls, so
they are not timed.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import quote

import httpx

from workbench.latency import LatencyWindow


@dataclass(frozen=True)
class Problem:
    """A failed call as a person wants to read it: what went wrong and which field."""

    status: int
    code: str
    message: str
    field: str | None = None


@dataclass(frozen=True)
class ApiResult:
    """What a call returned, including failures, so views can show them instead of crashing."""

    status_code: int
    body: Any
    elapsed_ms: float
    error: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    request: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status_code < 300

    @property
    def cache(self) -> str | None:
        """`X-Cache` of the answer (`hit`/`miss`), when a cache was consulted."""
        return self.headers.get("x-cache")

    @property
    def problem(self) -> Problem | None:
        if self.ok:
            return None
        if self.error is not None:
            return Problem(0, "UNREACHABLE", self.error)
        return problem_of(self.status_code, self.body)


def problem_of(status: int, body: Any) -> Problem:
    """The API's error envelope (or an OAuth-style error) read into a `Problem`."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return Problem(
            status,
            str(error.get("code", f"HTTP_{status}")),
            str(error.get("message", "")),
            _field_of(error.get("details")),
        )
    if isinstance(error, str):
        return Problem(status, error, str(body.get("error_description", "")))
    text = body if isinstance(body, str) else ""
    return Problem(status, f"HTTP_{status}", text[:200] or "the server gave no explanation")


def _field_of(details: Any) -> str | None:
    if isinstance(details, dict):
        named = details.get("field") or details.get("ticker")
        return str(named) if named else None
    if isinstance(details, list) and details and isinstance(details[0], dict):
        location = str(details[0].get("location", ""))
        return location.removeprefix("body.") or None
    return None


@cache
def _tls() -> ssl.SSLContext:
    # Building an httpx client loads the CA bundle (~20 ms); sharing one context keeps a
    # per-call client cheap, so the timings below measure the call, not the set-up.
    return httpx.create_ssl_context()


class ApiClient:
    """Async client of the dashboard API (the page never blocks on a slow call).

    `transport` lets tests answer from an in-memory fake instead of a server.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        latency: LatencyWindow | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout_s
        self._transport = transport
        self.latency = latency or LatencyWindow()

    # --- plumbing --------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        url: str,
        *,
        bearer: str | None = None,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        timed: bool = True,
        follow_redirects: bool = False,
    ) -> ApiResult:
        """One request. `url` is a path of the API, or an absolute URL (emulators)."""
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        label = f"{method} {url if url.startswith('/') else _without_query(url)}"
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self._timeout,
                transport=self._transport,
                verify=_tls(),
                follow_redirects=follow_redirects,
            ) as http:
                started = time.perf_counter()
                response = await http.request(
                    method, url, headers=headers, json=json, params=params
                )
                elapsed = (time.perf_counter() - started) * 1000
        except httpx.HTTPError as error:
            return ApiResult(0, None, 0.0, f"{type(error).__name__}: {error}", request=label)
        if timed:
            self.latency.record(label, elapsed)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return ApiResult(
            response.status_code,
            body,
            elapsed,
            headers={k.lower(): v for k, v in response.headers.items()},
            request=label,
        )

    async def get(self, path: str) -> ApiResult:
        return await self.call("GET", path)

    # --- health and the published contract --------------------------------------------------

    async def health(self) -> ApiResult:
        return await self.call("GET", "/health")

    async def openapi(self) -> ApiResult:
        return await self.call("GET", "/api/v2/openapi.json")

    # --- sign-in ------------------------------------------------------------------------------

    async def anonymous_session(self) -> ApiResult:
        return await self.call("POST", "/api/v2/auth/anonymous")

    async def me(self, bearer: str) -> ApiResult:
        return await self.call("GET", "/api/v2/auth/me", bearer=bearer)

    async def sign_out(self, bearer: str) -> ApiResult:
        return await self.call("POST", "/api/v2/auth/signout", bearer=bearer)

    async def request_magic_link(self, email: str, bearer: str | None) -> ApiResult:
        return await self.call(
            "POST", "/api/v2/auth/magic-link", bearer=bearer, json={"email": email}
        )

    async def verify_magic_link(self, token: str, bearer: str | None) -> ApiResult:
        return await self.call(
            "POST", "/api/v2/auth/magic-link/verify", bearer=bearer, json={"token": token}
        )

    async def preview_magic_link(self, token: str) -> ApiResult:
        return await self.call("POST", "/api/v2/auth/magic-link/preview", json={"token": token})

    async def oauth_urls(self, bearer: str | None) -> ApiResult:
        return await self.call("GET", "/api/v2/auth/oauth/urls", bearer=bearer)

    async def oauth_callback(
        self,
        provider: str,
        code: str,
        state: str,
        bearer: str | None,
        binding: str | None = None,
    ) -> ApiResult:
        body = {"provider": provider, "code": code, "state": state}
        if binding is not None:
            body["binding"] = binding
        return await self.call("POST", "/api/v2/auth/oauth/callback", bearer=bearer, json=body)

    # --- configurations -----------------------------------------------------------------------

    async def list_configurations(self, bearer: str) -> ApiResult:
        return await self.call("GET", "/api/v2/configurations", bearer=bearer)

    async def create_configuration(self, bearer: str, name: str, tickers: list[str]) -> ApiResult:
        body = {"name": name, "tickers": tickers}
        return await self.call("POST", "/api/v2/configurations", bearer=bearer, json=body)

    async def update_configuration(
        self, bearer: str, config_id: str, name: str, tickers: list[str]
    ) -> ApiResult:
        body = {"name": name, "tickers": tickers}
        return await self.call("PATCH", _config_path(config_id), bearer=bearer, json=body)

    async def delete_configuration(self, bearer: str, config_id: str) -> ApiResult:
        return await self.call("DELETE", _config_path(config_id), bearer=bearer)

    async def configuration_sentiment(self, bearer: str, config_id: str) -> ApiResult:
        return await self.call("GET", f"{_config_path(config_id)}/sentiment", bearer=bearer)

    # --- tickers --------------------------------------------------------------------------------

    async def search_tickers(self, query: str) -> ApiResult:
        return await self.call("GET", "/api/v2/tickers/search", params={"q": query})

    async def ohlc(self, ticker: str, range_name: str, bearer: str | None = None) -> ApiResult:
        """Cached prices answer anyone; prices not cached yet are fetched for a session only."""
        path = f"/api/v2/tickers/{quote(ticker, safe='')}/ohlc"
        return await self.call("GET", path, bearer=bearer, params={"range": range_name})

    async def sentiment_history(self, ticker: str, range_name: str, source: str) -> ApiResult:
        path = f"/api/v2/tickers/{quote(ticker, safe='')}/sentiment/history"
        return await self.call("GET", path, params={"range": range_name, "source": source})

    # --- operator routes -------------------------------------------------------------------------

    async def ops_caches(self, operator_token: str) -> ApiResult:
        return await self.call("GET", "/api/v2/ops/caches", bearer=operator_token)

    async def ops_circuits(self, operator_token: str) -> ApiResult:
        return await self.call("GET", "/api/v2/ops/circuits", bearer=operator_token)

    async def ops_quotas(self, operator_token: str) -> ApiResult:
        return await self.call("GET", "/api/v2/ops/quotas", bearer=operator_token)

    async def ops_chaos(self, operator_token: str) -> ApiResult:
        return await self.call("GET", "/api/v2/ops/chaos", bearer=operator_token)

    async def ops_switch_chaos(
        self, operator_token: str, scenario: str, enabled: bool, duration_s: float | None = None
    ) -> ApiResult:
        body: dict[str, Any] = {"scenario": scenario, "enabled": enabled}
        if duration_s:
            body["duration_s"] = duration_s
        return await self.call("POST", "/api/v2/ops/chaos", bearer=operator_token, json=body)

    async def ops_run_ingestion(self, operator_token: str) -> ApiResult:
        return await self.call("POST", "/api/v2/ops/ingestion/run", bearer=operator_token)

    async def ops_pipeline(self, operator_token: str) -> ApiResult:
        return await self.call("GET", "/api/v2/ops/pipeline", bearer=operator_token)

    async def ops_metrics(self, operator_token: str) -> ApiResult:
        return await self.call("GET", "/api/v2/ops/metrics", bearer=operator_token)

    async def ops_run_metrics(self, operator_token: str) -> ApiResult:
        return await self.call("POST", "/api/v2/ops/metrics/run", bearer=operator_token)

    async def ops_accuracy(self, operator_token: str, limit: int | None = None) -> ApiResult:
        params = {"limit": str(limit)} if limit is not None else None
        return await self.call("GET", "/api/v2/ops/accuracy", bearer=operator_token, params=params)

    async def ops_model(self, operator_token: str) -> ApiResult:
        return await self.call("GET", "/api/v2/ops/model", bearer=operator_token)

    async def ops_table(self, operator_token: str) -> ApiResult:
        return await self.call("GET", "/api/v2/ops/table", bearer=operator_token)

    async def ops_logs(self, operator_token: str, filters: Mapping[str, str]) -> ApiResult:
        chosen = {k: v for k, v in filters.items() if v}
        return await self.call("GET", "/api/v2/ops/logs", bearer=operator_token, params=chosen)

    async def ops_traces(self, operator_token: str) -> ApiResult:
        return await self.call("GET", "/api/v2/ops/traces", bearer=operator_token)

    async def ops_trace(self, operator_token: str, correlation_id: str) -> ApiResult:
        path = f"/api/v2/ops/traces/{quote(correlation_id, safe='')}"
        return await self.call("GET", path, bearer=operator_token)

    # --- the local emulators (not the API: untimed) ---------------------------------------------

    async def outbox(self, sendgrid_url: str) -> ApiResult:
        return await self.call("GET", f"{sendgrid_url.rstrip('/')}/_emulator/outbox", timed=False)

    async def authorize(self, authorize_url: str) -> ApiResult:
        """Open the provider's authorize URL without following its redirect: the `Location`
        it answers with carries the `code` and `state` meant for the redirect URI."""
        return await self.call("GET", authorize_url, timed=False)


def _config_path(config_id: str) -> str:
    return f"/api/v2/configurations/{quote(config_id, safe='')}"


def _without_query(url: str) -> str:
    # An authorize URL's query holds the state: keep it out of labels.
    return url.split("?", 1)[0]
