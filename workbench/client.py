"""The workbench's one way into the system: the public REST API, over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class ApiResult:
    """What a call returned, including failures, so views can show them instead of crashing."""

    status_code: int
    body: Any
    elapsed_ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status_code < 300


class ApiClient:
    """Async client of the dashboard API (the page never blocks on a slow call)."""

    def __init__(self, base_url: str, *, timeout_s: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout_s

    async def get(self, path: str) -> ApiResult:
        try:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=self._timeout) as http:
                response = await http.get(path)
        except httpx.HTTPError as error:
            return ApiResult(0, None, 0.0, f"{type(error).__name__}: {error}")
        elapsed = response.elapsed.total_seconds() * 1000
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return ApiResult(response.status_code, body, elapsed)

    async def health(self) -> ApiResult:
        return await self.get("/health")
