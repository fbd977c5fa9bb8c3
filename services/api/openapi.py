"""The OpenAPI document: generated from the routes' models, completed with the error contract.

Every operation can answer with the error envelope of API.md; Powertools documents only the
success response and its own 422 shape, so the envelope and those statuses are added here.
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
    "409": "Limit reached or conflict",
    "410": "Expired",
    "422": "The body fails the schema",
    "429": "Rate limited (see Retry-After)",
    "503": "A dependency is down (see Retry-After)",
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


def created(model: type[BaseModel], description: str = "Created") -> dict[int, Any]:
    """`responses=` for a route that answers 201 (or pass another status via the key)."""
    return {201: {"description": description, "content": {"application/json": {"model": model}}}}


def with_error_contract(document: str) -> str:
    spec = json.loads(document)
    spec.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    spec["components"]["schemas"].pop("HTTPValidationError", None)
    spec["components"]["schemas"].pop("ValidationError", None)
    envelope = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses[status] = {"description": description, "content": envelope}
    return json.dumps(spec)
