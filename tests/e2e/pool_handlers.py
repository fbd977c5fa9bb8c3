"""Functions the pool tests serve from the API's execution environments (imported there by
their import strings): one echoes its event, one takes longer than its timeout."""

from __future__ import annotations

import json
import time
from typing import Any

from services.local.control import ControlClient
from services.local.function_url_event import Handler
from services.settings import Settings


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event["rawPath"] == "/crash":
        raise RuntimeError("the function broke")
    if event["rawPath"] == "/sleep":
        time.sleep(60)
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(event),
    }


def build_echo(settings: Settings, control: ControlClient) -> Handler:
    return echo
