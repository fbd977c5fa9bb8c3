"""One GET with the error mapping every adapter shares; tokens never reach a message."""

from __future__ import annotations

from typing import Any

import httpx

from services.adapters.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderError,
    ProviderNotFoundError,
    ProviderRateLimitedError,
    ProviderResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)

USER_AGENT = "sentiment-deep-dive/0.1"


class HttpAdapter:
    """One provider's HTTP client: base URL, auth headers and timeouts fixed at construction."""

    def __init__(
        self,
        base_url: str,
        auth_headers: dict[str, str],
        *,
        timeout_s: float,
        client: httpx.Client | None,
    ) -> None:
        self._client = client or build_client(base_url, timeout_s, auth_headers)
        # Items of a response that did not match the documented shape (skipped, logged).
        self.last_skipped = 0

    def close(self) -> None:
        self._client.close()


def build_client(base_url: str, timeout_s: float, headers: dict[str, str]) -> httpx.Client:
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **headers},
    )


def get_json(
    client: httpx.Client, provider: str, path: str, params: dict[str, Any] | None = None
) -> Any:
    """GET `path`; the parsed JSON body, or the provider error that describes the failure."""
    try:
        response = client.get(path, params=params)
    except httpx.TimeoutException as error:
        raise ProviderTimeoutError(provider, f"GET {path} timed out") from error
    except httpx.HTTPError as error:
        raise ProviderUnavailableError(
            provider, f"GET {path} failed: {type(error).__name__}"
        ) from error
    status = response.status_code
    if status >= 400:
        raise _status_error(provider, path, response)
    try:
        return response.json()
    except ValueError as error:
        raise ProviderResponseError(
            provider, f"GET {path} returned invalid JSON", status
        ) from error


def _status_error(provider: str, path: str, response: httpx.Response) -> ProviderError:
    status = response.status_code
    detail = _detail(response)
    message = f"GET {path} -> {status}" + (f": {detail}" if detail else "")
    if status == 429:
        return ProviderRateLimitedError(provider, message, status, _retry_after(response))
    if status in (401, 403):
        return ProviderAuthError(provider, message, status)
    if status == 404:
        return ProviderNotFoundError(provider, message, status)
    if status == 400:
        return ProviderBadRequestError(provider, message, status)
    if status >= 500:
        return ProviderUnavailableError(provider, message, status)
    return ProviderResponseError(provider, message, status)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error") or "")[:200]
    return ""


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None
