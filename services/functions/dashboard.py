"""The dashboard function: the REST API behind a Lambda Function URL (payload 2.0)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver

from services.api.app import build_app
from services.api.dependencies import ApiDependencies
from services.observability import get_logger
from services.settings import get_settings


@cache
def default_app() -> LambdaFunctionUrlResolver:
    """Built on the first invocation (cold start) and reused by warm ones."""
    settings = get_settings()
    logger = get_logger("dashboard", settings.log_level)
    return build_app(ApiDependencies(settings=settings), logger)


def handler(
    event: dict[str, Any], context: Any, app: LambdaFunctionUrlResolver | None = None
) -> dict[str, Any]:
    return (app or default_app()).resolve(event, context)
