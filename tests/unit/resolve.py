"""Calling the API's resolver directly with a Function URL event, as the unit suites do."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver

from services.local.function_url_event import LocalLambdaContext, build_event


def resolve_get(
    app: LambdaFunctionUrlResolver, path: str, token: str | None = None
) -> tuple[int, Any]:
    """`GET path` (with `token` as the bearer, if any): the status and the decoded body."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    event = build_event(
        method="GET", raw_path=path, headers=headers, body=b"", source_ip="10.0.0.1", domain="t"
    )
    answer = app.resolve(event, LocalLambdaContext(function_name="t", aws_request_id="r"))
    return int(answer["statusCode"]), json.loads(answer["body"])
