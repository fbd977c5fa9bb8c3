"""The OpenAPI document: generated from the routes' models, completed with the error contract
and the links between operations.

Every operation can answer with the error envelope of API.md; Powertools documents only the
success response and its own 422 shape, so the envelope and those statuses are added here.
Links say which answer feeds which request (the id a POST returns is the path of the GET,
PATCH and DELETE that follow), so a client, or a fuzzer walking the API, can chain them.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

ERROR_STATUSES = {
    "400": "Bad parameter",
    "401": "No or bad bearer token",
    "403": "Not allowed",
    "404": "Absent, or owned by someone else",
    "405": "The path has no route for this method (see Allow)",
    "409": "Limit reached or conflict",
    "410": "Expired",
    "422": "The body fails the schema",
    "429": "Rate limited (see Retry-After)",
    "503": "A dependency is down (see Retry-After)",
}
# Only where a request body is read.
BODY_ERROR_STATUSES = {
    "413": "The body is over 6 MB (the Function URL's limit)",
    "415": "The body is not application/json",
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}

# Who may call what (API.md, "Auth"). The routes check it themselves; this tells clients (and
# lets a fuzzer sign in again when a request it made, a sign-out, revoked its session).
SECURITY_SCHEMES = {
    "session": {
        "type": "http",
        "scheme": "bearer",
        "description": "A session's token: POST /api/v2/auth/anonymous, a magic link or Google",
    },
    "operator": {
        "type": "http",
        "scheme": "bearer",
        "description": "The operator token (in the local stack: .local/operator-token)",
    },
}
SESSION: list[dict[str, list[str]]] = [{"session": []}]
# Anyone may call; a session's bearer, when sent, changes what happens: its anonymous data is
# carried over (sign-in), prices not cached yet are fetched for it (the price route).
SESSION_IF_ANY: list[dict[str, list[str]]] = [{}, {"session": []}]
SECURITY_BY_PATH: dict[str, list[dict[str, list[str]]]] = {
    "/api/v2/auth/me": SESSION,
    "/api/v2/auth/signout": SESSION,
    "/api/v2/auth/magic-link": SESSION_IF_ANY,
    "/api/v2/auth/magic-link/verify": SESSION_IF_ANY,
    "/api/v2/auth/magic-link/preview": [],  # the link's token is the authority
    "/api/v2/auth/oauth/urls": SESSION_IF_ANY,
    "/api/v2/auth/oauth/callback": SESSION_IF_ANY,
    "/api/v2/notifications/unsubscribe": [],  # the signed link is the authority
    "/api/v2/tickers/{ticker}/ohlc": SESSION_IF_ANY,
}
SECURITY_BY_PREFIX: dict[str, list[dict[str, list[str]]]] = {
    "/api/v2/ops/": [{"operator": []}],
    "/api/v2/configurations": SESSION,
    "/api/v2/alerts": SESSION,
    "/api/v2/notifications": SESSION,
}

CONFIGURATION = "/api/v2/configurations/{config_id}"
ALERT = "/api/v2/alerts/{alert_id}"
CONFIG_ID = {"config_id": "$response.body#/config_id"}
ALERT_ID = {"alert_id": "$response.body#/alert_id"}
FIRST_RESULT = {"ticker": "$response.body#/results/0/symbol"}
# (path, method, status) of an answer -> link name -> (target path, method, what it carries).
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, Any]]]] = {
    ("/api/v2/configurations", "post", "201"): {
        "GetConfiguration": (CONFIGURATION, "get", {"parameters": CONFIG_ID}),
        "UpdateConfiguration": (CONFIGURATION, "patch", {"parameters": CONFIG_ID}),
        "DeleteConfiguration": (CONFIGURATION, "delete", {"parameters": CONFIG_ID}),
        "GetConfigurationSentiment": (
            f"{CONFIGURATION}/sentiment",
            "get",
            {"parameters": CONFIG_ID},
        ),
        # An alert watches one of its configuration's tickers.
        "CreateAlert": (
            "/api/v2/alerts",
            "post",
            {
                "requestBody": {
                    "config_id": "$response.body#/config_id",
                    "ticker": "$response.body#/tickers/0",
                }
            },
        ),
    },
    (CONFIGURATION, "delete", "200"): {
        "GetDeletedConfiguration": (CONFIGURATION, "get", {"parameters": CONFIG_ID}),
    },
    ("/api/v2/alerts", "post", "201"): {
        "UpdateAlert": (ALERT, "patch", {"parameters": ALERT_ID}),
        "DeleteAlert": (ALERT, "delete", {"parameters": ALERT_ID}),
    },
    (ALERT, "delete", "200"): {
        "UpdateDeletedAlert": (ALERT, "patch", {"parameters": ALERT_ID}),
    },
    ("/api/v2/tickers/search", "get", "200"): {
        "GetOhlc": ("/api/v2/tickers/{ticker}/ohlc", "get", {"parameters": FIRST_RESULT}),
        "GetSentimentHistory": (
            "/api/v2/tickers/{ticker}/sentiment/history",
            "get",
            {"parameters": FIRST_RESULT},
        ),
    },
}


def created(model: type[BaseModel], description: str = "Created") -> dict[int, Any]:
    """`responses=` for a route that answers 201 (or pass another status via the key)."""
    return {201: {"description": description, "content": {"application/json": {"model": model}}}}


def with_error_contract(document: str) -> str:
    spec = json.loads(document)
    spec.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    spec["components"]["schemas"].pop("HTTPValidationError", None)
    spec["components"]["schemas"].pop("ValidationError", None)
    spec["components"]["securitySchemes"] = SECURITY_SCHEMES
    envelope = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in spec.get("paths", {}).items():
        security = _security_of(path)
        for operation in operations.values():
            if security is not None:
                operation["security"] = security
            responses = operation.setdefault("responses", {})
            statuses = {
                **ERROR_STATUSES,
                **(BODY_ERROR_STATUSES if "requestBody" in operation else {}),
            }
            for status, description in statuses.items():
                responses[status] = {"description": description, "content": envelope}
    _link(spec)
    return json.dumps(spec)


def _security_of(path: str) -> list[dict[str, list[str]]] | None:
    """The bearer `path` asks for; None for a public path."""
    if path in SECURITY_BY_PATH:
        return SECURITY_BY_PATH[path]
    return next((s for prefix, s in SECURITY_BY_PREFIX.items() if path.startswith(prefix)), None)


def _link(spec: dict[str, Any]) -> None:
    """Adds LINKS to the answers they start from, naming targets by their operationId; a link
    whose either end is not in the document (a route not served here) is left out."""
    paths = spec.get("paths", {})
    for (path, method, status), links in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        for name, (target_path, target_method, carried) in links.items():
            target = paths.get(target_path, {}).get(target_method)
            if target is not None and "operationId" in target:
                response.setdefault("links", {})[name] = {
                    "operationId": target["operationId"],
                    **carried,
                }
