"""The rate-limit middleware: every request is counted per bearer token and per client
address before its route runs; over either limit it is answered 429 with `Retry-After`.

Exempt: CORS preflight, `/health` (load balancers and monitors poll it), the OpenAPI
document, and the ops routes when called with the operator token (the operator must be
able to look while the service is flooded). The address is the Function URL's `sourceIp`,
never `X-Forwarded-For`, which a caller writes itself. IPv6 callers are counted per /64,
the block one subscriber is usually given.

Requests the schema refuses (400/422) are answered by the validation middleware before this
one runs; they touch no table, so they are left uncounted.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from services.api.dependencies import ApiDependencies
from services.api.errors import error_response
from services.resilience.rate_limit import ADDRESS, IDENTITY, LimitKey, Refusal
from services.store.sessions import token_hash

EXEMPT_PATHS = frozenset({"/health", "/api/v2/openapi.json"})
OPS_PREFIX = "/api/v2/ops/"
# 64 bits of a SHA-256 name a token in the counts: enough to keep callers apart, and the
# shared count maps stay small.
TOKEN_KEY_CHARS = 16

Middleware = Callable[[ApiGatewayResolver, NextMiddleware], Response[Any]]


def rate_limit_middleware(deps: ApiDependencies) -> Middleware:
    def rate_limit(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
        limiter = deps.rate_limiter
        if limiter is None:
            return next_middleware(app)
        event = app.current_event.raw_event
        http = event.get("requestContext", {}).get("http", {})
        path = event.get("rawPath", "")
        if http.get("method") == "OPTIONS" or path in EXEMPT_PATHS:
            return next_middleware(app)
        token = _bearer(event.get("headers") or {})
        hashed = token_hash(token) if token else None
        if hashed and path.startswith(OPS_PREFIX) and _is_operator(hashed, deps):
            return next_middleware(app)
        keys: list[LimitKey] = [(ADDRESS, "a:" + address_key(http.get("sourceIp", "")))]
        if hashed:
            keys.append((IDENTITY, "t:" + hashed[:TOKEN_KEY_CHARS]))
        refusal = limiter.check(keys)
        if refusal is None:
            return next_middleware(app)
        return _too_many(refusal)

    return rate_limit


def _too_many(refusal: Refusal) -> Response[str]:
    who = "this session" if refusal.kind == IDENTITY else "this address"
    return error_response(
        429,
        "RATE_LIMITED",
        f"too many requests from {who}: at most {refusal.limit} per {refusal.window_s} s; "
        f"retry in {refusal.retry_after_s} s",
        {
            "limit": refusal.kind,
            "max_requests": refusal.limit,
            "window_s": refusal.window_s,
            "retry_after_s": refusal.retry_after_s,
        },
        {"Retry-After": str(refusal.retry_after_s)},
    )


def _bearer(headers: dict[str, str]) -> str | None:
    # Function URL events carry lower-case header names; other spellings are looked for only
    # when that one is absent.
    value = headers.get("authorization")
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, token = value.partition(" ")
    token = token.strip()
    return token if token and scheme.lower() == "bearer" else None


def _is_operator(hashed: str, deps: ApiDependencies) -> bool:
    expected = deps.settings.operator_token_sha256
    return bool(expected) and hmac.compare_digest(hashed, expected or "")


def address_key(source_ip: str) -> str:
    """The address as counted: IPv4 as it is, IPv6 by its /64."""
    if ":" not in source_ip:
        return source_ip
    try:
        return str(ipaddress.ip_network(f"{source_ip}/64", strict=False))
    except ValueError:
        return source_ip
