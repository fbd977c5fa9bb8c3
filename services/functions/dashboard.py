"""The dashboard function: the REST API behind a Lambda Function URL (payload 2.0).

Powertools' resolver keeps the request being resolved in process-wide state (a class
attribute shared by every resolver), so a process that serves several requests at once, like
the local Function URL server, must resolve them one at a time. In Lambda the lock is never
contended. The caller's session is read before the lock is taken, so that read (a table
round trip) overlaps with other requests instead of queueing behind them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver

from services.api.app import build_app
from services.api.dependencies import ApiDependencies
from services.api.principal import authenticated_beforehand
from services.metrics.requests import route_of
from services.observability import get_logger
from services.settings import get_settings

_RESOLVING = threading.Lock()


@dataclass(frozen=True)
class Dashboard:
    """The app and its dependencies, called as the function is: `dashboard(event, context)`."""

    app: LambdaFunctionUrlResolver
    deps: ApiDependencies

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        with authenticated_beforehand(event.get("headers") or {}, self.deps), _RESOLVING:
            response = self.app.resolve(event, context)
        # Counted outside the lock; once a minute this writes the instance's minutes out.
        http = (event.get("requestContext") or {}).get("http") or {}
        self.deps.request_metrics.record(
            route_of(str(http.get("method", "")), str(http.get("path", event.get("rawPath", "")))),
            int(response.get("statusCode", 0)),
            (time.perf_counter() - started) * 1000.0,
        )
        return response


def build_dashboard(deps: ApiDependencies) -> Dashboard:
    return Dashboard(build_app(deps, get_logger("dashboard", deps.settings.log_level)), deps)


@cache
def default_dashboard() -> Dashboard:
    """Built on the first invocation (cold start) and reused by warm ones."""
    return build_dashboard(ApiDependencies(settings=get_settings()))


def handler(
    event: dict[str, Any], context: Any, app: LambdaFunctionUrlResolver | None = None
) -> dict[str, Any]:
    if app is None:
        return default_dashboard()(event, context)
    with _RESOLVING:
        return app.resolve(event, context)
