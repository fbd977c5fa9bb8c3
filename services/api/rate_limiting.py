"""Admission by rate limit: every request is counted per bearer token and per client address
before anything else is done with it; over either limit it is answered 429 with
`Retry-After`, in the API's error envelope with the request's correlation ID.

The dashboard function asks here first, before the bearer's session is read and before the
resolver validates the request or looks for its route: a flood of made-up bearers, invalid
bodies or unknown paths is counted like any other traffic and costs no table read once it
is refused. The check itself reads nothing per request (`services/resilience/rate_limit.py`
exchanges counts with the other instances at most about once a second).

Exempt: CORS preflight, the OpenAPI document (a fixed text), `/health` (load balancers and
monitors poll it; it answers from a result kept a few seconds, `HEALTH_CACHE_TTL_S`, so a
flood of it costs at most one table read per that period and instance), and the ops routes
when called with the operator token (the operator must be able to look while the service is
flooded; the token is compared by hash, no read). The address is the Function URL's
`sourceIp`, never `X-Forwarded-For`, which a caller writes itself. IPv6 callers are counted
per /64, the block one subscriber is usually given.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import CORSConfig, Response

from services.api.dependencies import ApiDependencies
from services.api.errors import error_response
from services.resilience.rate_limit import ADDRESS, IDENTITY, LimitKey, Refusal
from services.store.sessions import token_hash

EXEMPT_PATHS = frozenset({"/health", "/api/v2/openapi.json"})
OPS_PREFIX = "/api/v2/ops/"
# 64 bits of a SHA-256 name a token in the counts: enough to keep callers apart, and the
# shared count maps stay small.
TOKEN_KEY_CHARS = 16


@dataclass(frozen=True, slots=True)
class Admission:
    """What the rate limit made of a request: exempt (neither counted nor limited, and in need
    of no session: the function reads none for it), admitted, or refused (`refusal`)."""

    exempt: bool
    refusal: Refusal | None = None


EXEMPT = Admission(exempt=True)
ADMITTED = Admission(exempt=False)


def admit(event: Mapping[str, Any], deps: ApiDependencies) -> Admission:
    """Count the request under its address (and its bearer token, if any) and admit it, or
    say why not. Exempt requests are neither counted nor refused."""
    http = (event.get("requestContext") or {}).get("http") or {}
    path = str(event.get("rawPath") or http.get("path") or "")
    if str(http.get("method", "")).upper() == "OPTIONS" or path in EXEMPT_PATHS:
        return EXEMPT
    token = _bearer(event.get("headers") or {})
    hashed = token_hash(token) if token else None
    if hashed and path.startswith(OPS_PREFIX) and _is_operator(hashed, deps):
        return EXEMPT
    limiter = deps.rate_limiter
    if limiter is None:
        return ADMITTED
    keys: list[LimitKey] = [(ADDRESS, "a:" + address_key(str(http.get("sourceIp", ""))))]
    if hashed:
        keys.append((IDENTITY, "t:" + hashed[:TOKEN_KEY_CHARS]))
    refusal = limiter.check(keys)
    return ADMITTED if refusal is None else Admission(exempt=False, refusal=refusal)


def refused_response(
    event: Mapping[str, Any], refusal: Refusal, cors: CORSConfig, correlation_id: str
) -> dict[str, Any]:
    """The Function URL answer to a refused request, as the resolver would have built it: the
    envelope, `Retry-After`, the correlation ID, and CORS headers for an allowed origin (so a
    browser lets the page read the 429)."""
    headers: Mapping[str, str] = event.get("headers") or {}
    answer = _too_many(refusal)
    origin = next((v for k, v in headers.items() if k.lower() == "origin"), None)
    return {
        "statusCode": answer.status_code,
        "headers": {**answer.headers, **cors.to_dict(origin), "X-Correlation-ID": correlation_id},
        "body": answer.body,
        "isBase64Encoded": False,
        "cookies": [],
    }


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


def _bearer(headers: Mapping[str, str]) -> str | None:
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
