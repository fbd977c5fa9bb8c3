"""The dashboard function: the REST API behind a Lambda Function URL (payload 2.0).

A request is first counted by the rate limit (`services/api/rate_limiting.py`): nothing is
read for a caller the limit refuses, whatever its bearer, body or path. Only then is the
caller's session read and the request resolved.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import CORSConfig, LambdaFunctionUrlResolver

from services.api.app import build_app, cors_config
from services.api.dependencies import ApiDependencies
from services.api.ops_observability import polled
from services.api.principal import authenticated_beforehand
from services.api.rate_limiting import admit, refused_response
from services.composition.api import deployed_api
from services.metrics.requests import DeclaredRoute, RouteNames
from services.observability import correlation_id_from, get_logger
from services.resilience.rate_limit import Refusal
from services.tracing import TRACES, TraceBuffer


@dataclass(frozen=True)
class Dashboard:
    """The app and its dependencies, called as the function is: `dashboard(event, context)`."""

    app: LambdaFunctionUrlResolver
    deps: ApiDependencies
    routes: RouteNames
    cors: CORSConfig
    traces: TraceBuffer = TRACES

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        http = (event.get("requestContext") or {}).get("http") or {}
        method = str(http.get("method", ""))
        path = str(http.get("path", event.get("rawPath", "")))
        with self.traces.span_before_trace("rate limit", "middleware"):
            admission = admit(event, self.deps)
        if admission.refusal is not None:
            response = self._refuse(event, admission.refusal, method, path)
        elif admission.exempt:
            # Health, the document, preflight, the operator: no route of these reads a
            # session, so none is read ahead (an uncounted request must cost no read).
            response = self.app.resolve(event, context)
        else:
            with authenticated_beforehand(event.get("headers") or {}, self.deps):
                response = self.app.resolve(event, context)
        # Once a minute this writes the instance's minutes out.
        self.deps.request_metrics.record(
            self.routes.name(method, path),
            int(response.get("statusCode", 0)),
            (time.perf_counter() - started) * 1000.0,
        )
        return response

    def _refuse(
        self, event: dict[str, Any], refusal: Refusal, method: str, path: str
    ) -> dict[str, Any]:
        """The 429, with a trace of its own (which takes the rate limit's span), so refused
        requests show in the trace view as they did when the limit was a middleware."""
        correlation_id = correlation_id_from(event.get("headers") or {})
        trace = self.traces.begin(method, path)
        response = refused_response(event, refusal, self.cors, correlation_id)
        trace.status, trace.correlation_id = int(response["statusCode"]), correlation_id
        self.traces.end(trace, keep=not polled(method, path))
        return response


def declared_routes(app: LambdaFunctionUrlResolver) -> list[DeclaredRoute]:
    """The routes the app serves, as its resolver matches them. Powertools keeps them in two
    lists it does not publish; a unit test checks every route of the app is found here."""
    routes = [*app._static_routes, *app._dynamic_routes]
    return [DeclaredRoute(r.method.upper(), r.path, r.rule) for r in routes]


def build_dashboard(deps: ApiDependencies) -> Dashboard:
    app = build_app(deps, get_logger("dashboard", deps.settings.log_level))
    return Dashboard(app, deps, RouteNames(declared_routes(app)), cors_config(deps.settings))


@cache
def default_dashboard() -> Dashboard:
    """Built on the first invocation (cold start) and reused by warm ones."""
    return build_dashboard(deployed_api())


def handler(
    event: dict[str, Any], context: Any, deps: ApiDependencies | None = None
) -> dict[str, Any]:
    dashboard = default_dashboard() if deps is None else build_dashboard(deps)
    return dashboard(event, context)
