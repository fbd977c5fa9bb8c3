"""A function that answers the same small JSON body to every request: the floor a benchmark
measures the local Function URL against (transport, event adapter and pool, no application)."""

from __future__ import annotations

from typing import Any

from services.local.control import ControlClient
from services.local.function_url_event import Handler
from services.settings import Settings

BODY = '{"ok": true}'


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": BODY}


def build_handler(settings: Settings, control: ControlClient) -> Handler:
    """The pool's factory: `ApiPool("services.local.reference_handler:build_handler", ...)`."""
    return handler
