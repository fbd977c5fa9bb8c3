"""The dashboard function's application: routers, middleware and error mapping."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from services.api import health, ops_pipeline
from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError, error_response
from services.observability import correlation_id_from


def build_app(deps: ApiDependencies, logger: Logger) -> LambdaFunctionUrlResolver:
    app = LambdaFunctionUrlResolver()

    def correlation(resolver: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
        correlation_id = correlation_id_from(resolver.current_event.headers)
        logger.set_correlation_id(correlation_id)
        response = next_middleware(resolver)
        response.headers["X-Correlation-ID"] = correlation_id
        return response

    app.use(middlewares=[correlation])
    app.include_router(health.build_router(deps))
    app.include_router(ops_pipeline.build_router(deps))

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
