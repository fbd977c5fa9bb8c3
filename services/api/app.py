"""The dashboard function's application: routers, middleware and error mapping."""

from __future__ import annotations

from dataclasses import dataclass
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
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from services.api import (
    alerts,
    auth,
    auth_email,
    auth_magic_preview,
    auth_oauth,
    configurations,
    health,
    market,
    notifications,
    ops_accuracy,
    ops_caches,
    ops_chaos,
    ops_environments,
    ops_metrics,
    ops_model,
    ops_observability,
    ops_pipeline,
    ops_resilience,
    tickers,
)
from services.api.dependencies import ApiDependencies
from services.api.error_map import ERROR_MAP, envelope_of
from services.api.errors import error_response
from services.api.openapi import with_error_contract
from services.api.undeclared import (
    BodyNotAnObjectError,
    allowed_methods,
    body_is_text,
    json_object,
)
from services.observability import correlation_id_from
from services.settings import Settings
from services.store.errors import CLIENT_FAILURES, store_unavailable

OPENAPI_PATH = "/api/v2/openapi.json"
# A hint, not a promise: long enough for the client's retries not to add to an overload.
STORE_RETRY_AFTER_S = 5


def cors_config(settings: Settings) -> CORSConfig:
    """The API's CORS answer: the app's, and the function's own 429 before the resolver."""
    return CORSConfig(
        allow_origin=settings.cors_allow_origin,
        allow_headers=["Authorization", "Content-Type", "X-Correlation-ID"],
        expose_headers=["X-Correlation-ID", "X-Cache", "Retry-After"],
    )


# Every router of the API, included in this order.
ROUTERS = (
    health,
    ops_pipeline,
    ops_caches,
    ops_chaos,
    ops_resilience,
    ops_metrics,
    ops_observability,
    ops_model,
    ops_environments,
    ops_accuracy,
    auth,
    configurations,
    tickers,
    auth_email,
    auth_magic_preview,
    auth_oauth,
    market,
    alerts,
    notifications,
)


def build_app(deps: ApiDependencies, logger: Logger) -> LambdaFunctionUrlResolver:
    app = LambdaFunctionUrlResolver(
        enable_validation=True,
        json_body_deserializer=json_object,
        cors=cors_config(deps.settings),
    )
    answers = Answers(app, logger)
    # Tracing outermost (it times the rest, and logs each answer with its correlation ID).
    # The rate limit is not a middleware: the function applies it before the resolver
    # (`services/functions/dashboard.py`), ahead of validation and of the session read.
    tracing, handler = ops_observability.request_tracing(deps, logger)
    app.use(middlewares=[tracing, answers.correlation, handler])
    for router in ROUTERS:
        app.include_router(router.build_router(deps))
    serve_openapi(app, deps.settings)
    answer_request_errors(app, answers)
    answer_planned_errors(app, answers)
    return app


@dataclass(frozen=True)
class Answers:
    """The error envelope of a request, each carrying the request's correlation ID."""

    app: LambdaFunctionUrlResolver
    logger: Logger

    def correlation_id(self) -> str:
        """This request's correlation ID, chosen once and kept in the request's context: the
        exception handlers run outside every middleware, and a request refused by validation
        never reaches ours, yet each answer and log line of a request must carry the same ID."""
        known = self.app.context.get("correlation_id")
        if known is None:
            known = correlation_id_from(self.app.current_event.headers)
            self.app.append_context(correlation_id=known)
            self.logger.set_correlation_id(known)
        return str(known)

    def correlation(
        self, resolver: ApiGatewayResolver, next_middleware: NextMiddleware
    ) -> Response[Any]:
        chosen = self.correlation_id()
        response = next_middleware(resolver)
        response.headers["X-Correlation-ID"] = chosen
        return response

    def fail(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Response[str]:
        tagged = {**(headers or {}), "X-Correlation-ID": self.correlation_id()}
        return error_response(status, code, message, details, tagged)

    def not_json(self) -> Response[str]:
        sent = self.app.current_event.headers.get("content-type", "")
        message = f"send the body as application/json, not {sent}"
        return self.fail(415, "UNSUPPORTED_MEDIA_TYPE", message)

    def internal_error(self) -> Response[str]:
        # The stack trace goes to the log (sanitised), never into the response.
        self.logger.exception("unhandled error")
        return self.fail(500, "INTERNAL_ERROR", "an unexpected error occurred")


def serve_openapi(app: LambdaFunctionUrlResolver, settings: Settings) -> None:
    document: list[str] = []

    @app.get(OPENAPI_PATH, include_in_schema=False)
    def openapi() -> Response[str]:
        # Generated from the routes' models on first request, then kept for the process.
        if not document:
            schema = app.get_openapi_json_schema(
                title="Sentiment Deep Dive API", version=settings.service_version
            )
            document.append(with_error_contract(schema))
        return Response(200, content_types.APPLICATION_JSON, document[0])


def answer_request_errors(app: LambdaFunctionUrlResolver, answers: Answers) -> None:
    """Requests the routes never see: parameters or bodies that fail their schemas, bodies
    that are not JSON."""
    fail = answers.fail

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

    @app.exception_handler(BodyNotAnObjectError)
    def body_not_an_object(error: BodyNotAnObjectError) -> Response[str]:
        return fail(422, "INVALID_BODY", str(error), [{"location": "body", "message": str(error)}])

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_media_type(_: RequestUnsupportedContentType) -> Response[str]:
        return answers.not_json()

    # Powertools reads form bodies itself, and a multipart type without its boundary makes it
    # raise a bare ValueError: refused like any other body that is not JSON.
    @app.exception_handler(ValueError)
    def value_error(_: ValueError) -> Response[str]:
        if app.current_event.headers.get("content-type", "").lower().startswith("multipart/"):
            return answers.not_json()
        return answers.internal_error()

    # Bytes that are not UTF-8 reach the app base64-encoded, and reading them as the JSON body
    # fails to decode: the caller's mistake, unless the body was text after all.
    @app.exception_handler(UnicodeDecodeError)
    def undecodable(_: UnicodeDecodeError) -> Response[str]:
        if body_is_text(app.current_event):
            return answers.internal_error()
        return fail(400, "INVALID_JSON", "the request body is not UTF-8 text, so not JSON")


def answer_planned_errors(app: LambdaFunctionUrlResolver, answers: Answers) -> None:
    """What the routes raise: the error map's kinds, no route, the store down, and the rest
    (a 500 whose trace goes only to the log)."""

    @app.exception_handler(list(ERROR_MAP))
    def planned(error: Exception) -> Response[str]:
        envelope = envelope_of(error)
        if envelope is None:
            return answers.internal_error()
        e = envelope
        return answers.fail(e.status, e.code, e.message, e.details, e.headers)

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        event = app.current_event
        allowed = allowed_methods(app, event.path)
        if allowed:
            message = f"{event.http_method} is not allowed on {event.path}"
            headers = {"Allow": ", ".join(allowed)}
            return answers.fail(405, "METHOD_NOT_ALLOWED", message, {"allowed": allowed}, headers)
        return answers.fail(404, "NOT_FOUND", f"no route for {event.http_method} {event.path}")

    @app.exception_handler(Exception)
    def unexpected(_: Exception) -> Response[str]:
        return answers.internal_error()

    @app.exception_handler(list(CLIENT_FAILURES))
    def store_failure(error: Exception) -> Response[str]:
        if not store_unavailable(error):
            return answers.internal_error()
        answers.logger.warning(
            "the data store is unavailable", extra={"error": type(error).__name__}
        )
        return answers.fail(
            503,
            "STORE_UNAVAILABLE",
            "the data store is unavailable; try again",
            headers={"Retry-After": str(STORE_RETRY_AFTER_S)},
        )


def _sentence(problems: list[dict[str, str]]) -> str:
    first = problems[0] if problems else {"location": "request", "message": "invalid"}
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{first['location'] or 'request'}: {first['message']}{more}"
