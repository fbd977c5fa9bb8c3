"""A call as the "Try it" panels show it: request, status, time and body, secrets masked."""

from __future__ import annotations

from typing import Any

from workbench.client import ApiResult

# Bearer tokens and one-time secrets: shown by their first characters only, enough to tell
# two apart on screen, never enough to use.
SECRET_KEYS = frozenset({"token", "access_token", "id_token", "code", "state", "binding"})
SHOWN_CHARS = 6


def mask(secret: str) -> str:
    return f"{secret[:SHOWN_CHARS]}… ({len(secret)} chars)" if secret else secret


def masked(body: Any) -> Any:
    if isinstance(body, dict):
        return {
            k: mask(v) if k in SECRET_KEYS and isinstance(v, str) else masked(v)
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [masked(item) for item in body]
    return body


def call_view(result: ApiResult) -> dict[str, Any]:
    return {
        "request": result.request,
        "status": result.status_code,
        "elapsed_ms": round(result.elapsed_ms, 1),
        "cache": result.cache,
        "body": masked(result.body) if result.error is None else result.error,
    }
