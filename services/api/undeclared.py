"""What the app needs to answer requests its document does not declare: a method a path has
no route for (405 with `Allow`), a body whose bytes are not UTF-8 text, a JSON body that is
not an object."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent


def allowed_methods(app: ApiGatewayResolver, path: str) -> list[str]:
    """The methods `app` has a route for at `path`; empty when no route serves the path."""
    # Powertools matches requests against these compiled routes and has no public look-up.
    routes = app._static_routes + app._dynamic_routes
    return sorted({route.method for route in routes if route.rule.match(path)})


def body_is_text(event: BaseProxyEvent) -> bool:
    """Whether the request's body (base64-encoded when it came as bytes) decodes as UTF-8."""
    try:
        event.decoded_body  # noqa: B018 (decoding is the check)
    except UnicodeDecodeError:
        return False
    return True


class BodyNotAnObjectError(ValueError):
    """A JSON body that is not an object, where every body this API reads is one."""


def json_object(text: str) -> dict[str, Any]:
    """The request body's JSON, which must be an object. Powertools, given a list where it
    expects one model, validates the list's first item (a form's repeated field) instead."""
    try:
        value = json.loads(text)
    except RecursionError:
        # Nested deeper than the parser goes: not JSON this API could ever have asked for.
        raise json.JSONDecodeError("nested too deeply", text, 0) from None
    if not isinstance(value, dict):
        raise BodyNotAnObjectError(f"the request body must be a JSON object, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
