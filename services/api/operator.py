"""Operator authentication for `/api/v2/ops/*`: a bearer token whose hash is configured."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from services.api.errors import ApiError
from services.settings import Settings
from services.store.sessions import token_hash


def bearer_token(headers: Mapping[str, str]) -> str | None:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_operator(headers: Mapping[str, str], settings: Settings) -> None:
    """Raise 401 unless the request carries the operator token (compared in constant time)."""
    token = bearer_token(headers)
    expected = settings.operator_token_sha256
    if token is None:
        raise ApiError(401, "UNAUTHORIZED", "the ops endpoints need the operator bearer token")
    if not expected or not hmac.compare_digest(token_hash(token), expected):
        raise ApiError(401, "UNAUTHORIZED", "the bearer token is not the operator token")
