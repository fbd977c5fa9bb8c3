"""One GET with the error mapping every adapter shares; tokens never reach a message.

A 403 is read, not only counted: a body that says the endpoint is not in the key's plan
(Tiingo's `{"detail": "You do not have permission to access the News API"}`, Finnhub's
`{"error": "You don't have access to this resource."}`) is a `ProviderNotEntitledError` naming
the endpoint; any other 403, like a 401, is a `ProviderAuthError`. An adapter whose provider
says more in its bodies than its statuses do (Tiingo's limits, answered with a 200) passes a
`check` that sees every answer first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypedDict, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from services.adapters.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderError,
    ProviderNotEntitledError,
    ProviderNotFoundError,
    ProviderRateLimitedError,
    ProviderResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)

USER_AGENT = "sentiment-deep-dive/0.1"
# The provider's words for "this endpoint is not in your plan" in a 403 (the key is good).
_NOT_IN_PLAN = re.compile(
    r"do not have permission to access"  # Tiingo: "... to access the News API"
    r"|plans are limited to"  # Tiingo: "Free and Power plans are limited to the DOW 30 ..."
    r"|don.t have access to this resource",  # Finnhub
    re.IGNORECASE,
)
# Sees one answer before the status mapping: the error it describes, or None to carry on.
AnswerCheck = Callable[[str, httpx.Response], ProviderError | None]
ModelT = TypeVar("ModelT", bound=BaseModel)


class ClientOptions(TypedDict, total=False):
    """How an adapter's HTTP client is made: its timeout, or a client made elsewhere (tests)."""

    timeout_s: float
    client: httpx.Client | None


class HttpAdapter:
    """One provider's HTTP client: base URL, the key's auth headers and timeouts fixed at
    construction."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_s: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        self._client = client or build_client(base_url, timeout_s, self.auth_headers(api_key))
        # Items of a response that did not match the documented shape (skipped, logged).
        self.last_skipped = 0
        # HTTP requests the last `fetch_news` made (each is a unit of the provider's quota).
        self.last_requests = 0

    def auth_headers(self, api_key: str) -> dict[str, str]:
        """The headers that carry the key, as the provider wants them."""
        raise NotImplementedError

    def close(self) -> None:
        self._client.close()

    def _documented(self, model: type[ModelT], raw: Any, what: str) -> ModelT | None:
        """`raw` read as `model`, or None when it does not match the documented shape: one
        odd item is skipped (counted and logged as "`what`"), not the whole answer."""
        try:
            return model.model_validate(raw)
        except ValidationError:
            self.last_skipped += 1
            # Logged under the provider's own module, where it always was.
            logging.getLogger(type(self).__module__).warning(
                "skipped a %s that does not match the documented shape", what
            )
            return None


def build_client(base_url: str, timeout_s: float, headers: dict[str, str]) -> httpx.Client:
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **headers},
    )


def get_json(
    client: httpx.Client,
    provider: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    endpoint: str,
    check: AnswerCheck | None = None,
) -> Any:
    """GET `path`; the parsed JSON body, or the provider error that describes the failure.
    `endpoint` is the stable name an error about the key's plan carries; `check` (given the
    path and the response) may name an error the status alone would not."""
    try:
        response = client.get(path, params=params)
    except httpx.TimeoutException as error:
        raise ProviderTimeoutError(provider, f"GET {path} timed out") from error
    except httpx.HTTPError as error:
        raise ProviderUnavailableError(
            provider, f"GET {path} failed: {type(error).__name__}"
        ) from error
    if check is not None:
        checked = check(path, response)
        if checked is not None:
            raise checked
    status = response.status_code
    if status >= 400:
        raise _status_error(provider, path, endpoint, response)
    try:
        return response.json()
    except ValueError as error:
        raise ProviderResponseError(
            provider, f"GET {path} returned invalid JSON", status
        ) from error


def _status_error(
    provider: str, path: str, endpoint: str, response: httpx.Response
) -> ProviderError:
    status = response.status_code
    detail = response_detail(response)
    message = f"GET {path} -> {status}" + (f": {detail}" if detail else "")
    if status == 429:
        return ProviderRateLimitedError(provider, message, status, retry_after_header(response))
    if status == 403 and _NOT_IN_PLAN.search(detail):
        return ProviderNotEntitledError(
            provider,
            f"{message} (the {endpoint} endpoint is not in this key's plan)",
            status,
            endpoint=endpoint,
            reason=detail,
        )
    if status in (401, 403):
        return ProviderAuthError(provider, message, status)
    if status == 404:
        return ProviderNotFoundError(provider, message, status)
    if status == 400:
        return ProviderBadRequestError(provider, message, status)
    if status >= 500:
        return ProviderUnavailableError(provider, message, status)
    return ProviderResponseError(provider, message, status)


def response_detail(response: httpx.Response) -> str:
    """The provider's own message: Tiingo's `detail`, Finnhub's `error`, or the plain text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error") or "")[:200]
    return ""


def retry_after_header(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds, when the provider sent one."""
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None
