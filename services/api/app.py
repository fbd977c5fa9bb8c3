"""The dashboard function's application: routers, middleware and error mapping."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import (
    CORSConfig,
    LambdaFunctionUrlResolver,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from services.alerts.manage import AlertNotAllowedError, InvalidAlertError
from services.api import (
    alerts,
    auth,
    auth_email,
    auth_oauth,
    configurations,
    health,
    market,
    notifications,
    ops_accuracy,
    ops_caches,
    ops_chaos,
    ops_metrics,
    ops_model,
    ops_observability,
    ops_pipeline,
    ops_resilience,
    tickers,
)
from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError, error_response
from services.api.openapi import with_error_contract
from services.api.rate_limiting import rate_limit_middleware
from services.configurations.manage import InvalidConfigurationError
from services.observability import correlation_id_from
from services.resilience.breaker import CircuitOpenError
from services.resilience.quota import QuotaExhaustedError
from services.store.errors import (
    CLIENT_FAILURES,
    ConflictError,
    LimitReachedError,
    NotFoundError,
    store_unavailable,
)

OPENAPI_PATH = "/api/v2/openapi.json"
# A hint, not a promise: long enough for the client's retries not to add to an overload.
STORE_RETRY_AFTER_S = 5


def build_app(deps: ApiDependencies, logger: Logger) -> LambdaFunctionUrlResolver:
    app = LambdaFunctionUrlResolver(
        enable_validation=True,
        cors=CORSConfig(
            allow_origin=deps.settings.cors_allow_origin,
            allow_headers=["Authorization", "Content-Type", "X-Correlation-ID"],
            expose_headers=["X-Correlation-ID", "X-Cache", "Retry-After"],
        ),
    )

    def correlation_id() -> str:
        """This request's correlation ID, chosen once and kept in the request's context: the
        exception handlers run outside every middleware, and a request refused by validation
        never reaches ours, yet each answer and log line of a request must carry the same ID."""
        known = app.context.get("correlation_id")
        if known is None:
            known = correlation_id_from(app.current_event.headers)
            app.append_context(correlation_id=known)
            logger.set_correlation_id(known)
        return str(known)

    def correlation(resolver: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
        chosen = correlation_id()
        response = next_middleware(resolver)
        response.headers["X-Correlation-ID"] = chosen
        return response

    def fail(
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Response[str]:
        tagged = {**(headers or {}), "X-Correlation-ID": correlation_id()}
        return error_response(status, code, message, details, tagged)

    # Correlation first, so that a 429 carries the request's ID too.
    # Tracing outermost (it times the rest, and logs each answer with its correlation ID).
    tracing, handler = ops_observability.request_tracing(deps, logger)
    limit = ops_observability.timed("rate limit", rate_limit_middleware(deps))
    app.use(middlewares=[tracing, correlation, limit, handler])
    app.include_router(health.build_router(deps))
    app.include_router(ops_pipeline.build_router(deps))
    app.include_router(ops_caches.build_router(deps))
    app.include_router(ops_chaos.build_router(deps))
    app.include_router(ops_resilience.build_router(deps))
    app.include_router(ops_metrics.build_router(deps))
    app.include_router(ops_observability.build_router(deps))
    app.include_router(ops_model.build_router(deps))
    app.include_router(ops_accuracy.build_router(deps))
    app.include_router(auth.build_router(deps))
    app.include_router(configurations.build_router(deps))
    app.include_router(tickers.build_router(deps))
    app.include_router(auth_email.build_router(deps))
    app.include_router(auth_oauth.build_router(deps))
    app.include_router(market.build_router(deps))
    app.include_router(alerts.build_router(deps))
    app.include_router(notifications.build_router(deps))
    document: list[str] = []

    @app.get(OPENAPI_PATH, include_in_schema=False)
    def openapi() -> Response[str]:
        # Generated from the routes' models on first request, then kept for the process.
        if not document:
            document.append(
                with_error_contract(
                    app.get_openapi_json_schema(
                        title="Sentiment Deep Dive API", version=deps.settings.service_version
                    )
                )
            )
        return Response(200, content_types.APPLICATION_JSON, document[0])

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[str]:
        if any(e.get("type") == "json_invalid" for e in error.errors()):
            return fail(400, "INVALID_JSON", "the request body is not valid JSON")
        problems = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in error.errors()
        ]
        # A bad query or path parameter is a 400; a body that fails the schema is a 422.
        if problems and not all(p["location"].startswith("body") for p in problems):
            return fail(400, "BAD_PARAMETER", _sentence(problems), problems)
        return fail(422, "INVALID_BODY", _sentence(problems), problems)

    @app.exception_handler(InvalidAlertError)
    def invalid_alert(error: InvalidAlertError) -> Response[str]:
        return fail(400, "INVALID_ALERT", str(error), {"field": error.field})

    @app.exception_handler(AlertNotAllowedError)
    def alert_not_allowed(error: AlertNotAllowedError) -> Response[str]:
        return fail(403, "NOT_ALLOWED", str(error))

    @app.exception_handler(InvalidConfigurationError)
    def invalid_configuration(error: InvalidConfigurationError) -> Response[str]:
        return fail(400, "INVALID_CONFIGURATION", str(error), {"field": error.field})

    @app.exception_handler(NotFoundError)
    def not_found_item(error: NotFoundError) -> Response[str]:
        return fail(404, "NOT_FOUND", str(error))

    @app.exception_handler(LimitReachedError)
    def limit_reached(error: LimitReachedError) -> Response[str]:
        return fail(409, "LIMIT_REACHED", str(error))

    @app.exception_handler(ConflictError)
    def conflict(error: ConflictError) -> Response[str]:
        return fail(409, "CONFLICT", f"{error}; read it again and retry")

    @app.exception_handler(ApiError)
    def api_error(error: ApiError) -> Response[str]:
        return fail(error.status, error.code, error.message, error.details, error.headers)

    # A guard's refusal that no route turned into its own answer: the dependency is down (or
    # spent) for now, and the refusal knows for how long.
    @app.exception_handler(CircuitOpenError)
    def circuit_open(error: CircuitOpenError) -> Response[str]:
        return fail(
            503,
            "PROVIDER_UNAVAILABLE",
            f"{error.service} is unavailable right now; try again later",
            {"provider": error.service, "retry_after_s": int(error.retry_after_header)},
            {"Retry-After": error.retry_after_header},
        )

    @app.exception_handler(QuotaExhaustedError)
    def quota_exhausted(error: QuotaExhaustedError) -> Response[str]:
        return fail(
            503,
            "QUOTA_EXHAUSTED",
            f"the {error.service} quota of this period is used up; try again after it resets",
            {
                "provider": error.service,
                "quota": error.quota,
                "retry_after_s": int(error.retry_after_header),
            },
            {"Retry-After": error.retry_after_header},
        )

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        event = app.current_event
        return fail(404, "NOT_FOUND", f"no route for {event.http_method} {event.path}")

    def internal_error() -> Response[str]:
        # The stack trace goes to the log (sanitised), never into the response.
        logger.exception("unhandled error")
        return fail(500, "INTERNAL_ERROR", "an unexpected error occurred")

    @app.exception_handler(Exception)
    def unexpected(_: Exception) -> Response[str]:
        return internal_error()

    @app.exception_handler(list(CLIENT_FAILURES))
    def store_failure(error: Exception) -> Response[str]:
        if not store_unavailable(error):
            return internal_error()
        logger.warning("the data store is unavailable", extra={"error": type(error).__name__})
        return fail(
            503,
            "STORE_UNAVAILABLE",
            "the data store is unavailable; try again",
            headers={"Retry-After": str(STORE_RETRY_AFTER_S)},
        )

    return app


def _sentence(problems: list[dict[str, str]]) -> str:
    first = problems[0] if problems else {"location": "request", "message": "invalid"}
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{first['location'] or 'request'}: {first['message']}{more}"
