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
    ops_pipeline,
    tickers,
)
from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError, error_response
from services.api.openapi import with_error_contract
from services.configurations.manage import InvalidConfigurationError
from services.observability import correlation_id_from
from services.store.errors import ConflictError, LimitReachedError, NotFoundError

OPENAPI_PATH = "/api/v2/openapi.json"


def build_app(deps: ApiDependencies, logger: Logger) -> LambdaFunctionUrlResolver:
    app = LambdaFunctionUrlResolver(
        enable_validation=True,
        cors=CORSConfig(
            allow_origin=deps.settings.cors_allow_origin,
            allow_headers=["Authorization", "Content-Type", "X-Correlation-ID"],
            expose_headers=["X-Correlation-ID", "X-Cache", "Retry-After"],
        ),
    )

    def correlation(resolver: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
        correlation_id = correlation_id_from(resolver.current_event.headers)
        logger.set_correlation_id(correlation_id)
        response = next_middleware(resolver)
        response.headers["X-Correlation-ID"] = correlation_id
        return response

    app.use(middlewares=[correlation])
    app.include_router(health.build_router(deps))
    app.include_router(ops_pipeline.build_router(deps))
    app.include_router(auth.build_router(deps))
    app.include_router(configurations.build_router(deps))
    app.include_router(tickers.build_router(deps))
    app.include_router(auth_email.build_router(deps))
    app.include_router(auth_oauth.build_router(deps))
    app.include_router(market.build_router(deps))
    app.include_router(alerts.build_router(deps))
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
            return error_response(400, "INVALID_JSON", "the request body is not valid JSON")
        problems = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in error.errors()
        ]
        # A bad query or path parameter is a 400; a body that fails the schema is a 422.
        if problems and not all(p["location"].startswith("body") for p in problems):
            return error_response(400, "BAD_PARAMETER", _sentence(problems), problems)
        return error_response(422, "INVALID_BODY", _sentence(problems), problems)

    @app.exception_handler(InvalidAlertError)
    def invalid_alert(error: InvalidAlertError) -> Response[str]:
        return error_response(400, "INVALID_ALERT", str(error), {"field": error.field})

    @app.exception_handler(AlertNotAllowedError)
    def alert_not_allowed(error: AlertNotAllowedError) -> Response[str]:
        return error_response(403, "NOT_ALLOWED", str(error))

    @app.exception_handler(InvalidConfigurationError)
    def invalid_configuration(error: InvalidConfigurationError) -> Response[str]:
        return error_response(400, "INVALID_CONFIGURATION", str(error), {"field": error.field})

    @app.exception_handler(NotFoundError)
    def not_found_item(error: NotFoundError) -> Response[str]:
        return error_response(404, "NOT_FOUND", str(error))

    @app.exception_handler(LimitReachedError)
    def limit_reached(error: LimitReachedError) -> Response[str]:
        return error_response(409, "LIMIT_REACHED", str(error))

    @app.exception_handler(ConflictError)
    def conflict(error: ConflictError) -> Response[str]:
        return error_response(409, "CONFLICT", f"{error}; read it again and retry")

    @app.exception_handler(ApiError)
    def api_error(error: ApiError) -> Response[str]:
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        event = app.current_event
        return error_response(404, "NOT_FOUND", f"no route for {event.http_method} {event.path}")

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response[str]:
        # The stack trace goes to the log (sanitised), never into the response.
        logger.exception("unhandled error")
        return error_response(500, "INTERNAL_ERROR", "an unexpected error occurred")

    return app


def _sentence(problems: list[dict[str, str]]) -> str:
    first = problems[0] if problems else {"location": "request", "message": "invalid"}
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{first['location'] or 'request'}: {first['message']}{more}"
