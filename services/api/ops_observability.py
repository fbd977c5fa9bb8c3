"""Operator routes of observability: the log tail, request traces and the table's item counts.

- `GET /api/v2/ops/logs`: this process's last sanitised log records (`LOG_BUFFER`), newest
  first, filtered by minimum level, service (the function that logged) and correlation ID.
- `GET /api/v2/ops/traces`, `GET /api/v2/ops/traces/{correlation_id}`: the last requests'
  timing breakdowns (`services.tracing`), recorded by `request_tracing`, a middleware.
- `GET /api/v2/ops/table`: items per entity and per GSI of the single table, from a scan
  capped at `OPS_TABLE_SCAN_MAX_ITEMS` items (exact for a table that fits, estimated from a
  sample beyond: `truncated`, `estimated`; `services/store/census.py`), kept for
  `OPS_TABLE_CACHE_TTL_S` so polling stays cheap.

Logs and traces are kept in the memory of the execution environment that made them, so with
several environments (Lambda's, or the local server's workers) each answer is one
environment's: it says which (`environment`: its instance id, the one `/api/v2/ops/caches`
lists, and its pid where local), and a request served by another environment is not among
them. Across environments, CloudWatch Logs and X-Ray hold them all in AWS.

Like the rest of `/api/v2/ops/*`, they need the operator token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.operator import require_operator
from services.api.query_params import bounded_whole_number
from services.observability import LOG_BUFFER, LogBuffer
from services.ops.kept import KeptResult
from services.settings import Settings
from services.store.census import TableCensus
from services.tracing import TRACES, TraceBuffer

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
TRACES_LISTED = 100
# Polled by dashboards every few seconds: timed, but neither kept as traces nor logged at INFO,
# so the requests a person makes are not pushed out by the polling.
POLLED_PREFIXES = ("/health", "/api/v2/ops/")

Middleware = Callable[[ApiGatewayResolver, NextMiddleware], Response[Any]]


def _level_rank(level: Any) -> int:
    name = str(level or "").upper()
    name = "WARNING" if name == "WARN" else name
    return LEVELS.index(name) if name in LEVELS else 0


def filter_logs(
    records: list[dict[str, Any]],
    *,
    level: str | None = None,
    service: str | None = None,
    correlation_id: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[dict[str, Any]]:
    """Newest first: records at `level` or above, of `service`, of `correlation_id`."""
    minimum = _level_rank(level) if level else 0
    chosen = [
        r
        for r in reversed(records)
        if _level_rank(r.get("level")) >= minimum
        and (not service or r.get("service") == service)
        and (not correlation_id or r.get("correlation_id") == correlation_id)
    ]
    return chosen[:limit]


def polled(method: str, path: str) -> bool:
    return method == "GET" and path.startswith(POLLED_PREFIXES)


def request_tracing(
    deps: ApiDependencies, logger: Logger, traces: TraceBuffer = TRACES
) -> list[Middleware]:
    """Two middlewares: the first (outermost) opens the request's trace and logs one line when
    it is answered; the second (innermost) times the route handler. `timed` wraps any other
    middleware into a span of its own. The table's client is watched from the first request
    on (the table is built on first use, never at import)."""
    watched: list[bool] = []

    def trace_request(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
        if not watched and deps.traced_client is not None:
            traces.watch(deps.traced_client)
            watched.append(True)
        event = app.current_event
        method, path = event.http_method, event.path
        trace = traces.begin(method, path)
        status: int | None = None
        try:
            response = next_middleware(app)
            status = response.status_code
            return response
        except Exception as error:
            # Answered by the app's error handlers, which run outside every middleware.
            trace.error = type(error).__name__
            raise
        finally:
            trace.status = status
            trace.correlation_id = str(app.context.get("correlation_id") or "") or None
            is_polled = polled(method, path)
            traces.end(trace, keep=not is_polled)
            elapsed = trace.as_dict(spans=False)["duration_ms"]
            line = {"method": method, "path": path, "status": status, "duration_ms": elapsed}
            if trace.error:
                line["raised"] = trace.error
            if is_polled:
                logger.debug("request answered", extra=line)
            else:
                logger.info("request answered", extra=line)

    def route_handler(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
        with traces.span("route handler", "handler", route=app.current_event.path):
            return next_middleware(app)

    return [trace_request, route_handler]


class TableCounts:
    """The table's census (`services.store.census.table_census`), one at a time, kept briefly:
    a flood of polls costs one capped scan per `OPS_TABLE_CACHE_TTL_S` and instance."""

    def __init__(self, settings: Settings) -> None:
        self.max_items = settings.ops_table_scan_max_items
        self._kept: KeptResult[dict[str, Any]] = KeptResult(settings.ops_table_cache_ttl_s)

    def get(self, census: TableCensus) -> dict[str, Any]:
        def count() -> dict[str, Any]:
            started = time.perf_counter()
            counted = census.census(max_items=self.max_items)
            counted["scan_ms"] = round((time.perf_counter() - started) * 1000, 1)
            return counted

        counted, age_s = self._kept.get(count)
        return {**counted, "age_s": round(age_s, 1)}


def log_records(logs: LogBuffer, query: Callable[[str], str | None]) -> dict[str, Any]:
    """The environment's buffered log records that the query's filters choose."""
    level = query("level")
    if level and level.upper() not in (*LEVELS, "WARN"):
        raise ApiError(
            400,
            "BAD_PARAMETER",
            f"level must be one of {', '.join(LEVELS)}",
            {"field": "level"},
        )
    limit = bounded_whole_number(
        query("limit"), name="limit", low=1, high=MAX_LIMIT, default=DEFAULT_LIMIT
    )
    records = logs.snapshot()
    chosen = filter_logs(
        records,
        level=level,
        service=query("service"),
        correlation_id=query("correlation_id"),
        limit=limit,
    )
    return {
        "records": chosen,
        "count": len(chosen),
        "buffered": len(records),
        "services": sorted({str(r.get("service")) for r in records if r.get("service")}),
        "levels": list(LEVELS),
        "scope": "environment",
    }


def build_router(
    deps: ApiDependencies, logs: LogBuffer = LOG_BUFFER, traces: TraceBuffer = TRACES
) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()
    table_counts = TableCounts(deps.settings)

    def authorize() -> None:
        require_operator(router.current_event.headers, deps.settings)

    def answering() -> dict[str, Any]:
        """Which environment's memory an answer comes from."""
        return {"instance": deps.instance, "pid": deps.shared_caches.pid}

    def query(name: str) -> str | None:
        value = router.current_event.get_query_string_value(name)
        return value.strip() if value and value.strip() else None

    @router.get("/api/v2/ops/logs", tags=["ops"])
    def log_tail() -> dict[str, Any]:
        authorize()
        return {**log_records(logs, query), "environment": answering()}

    @router.get("/api/v2/ops/traces", tags=["ops"])
    def trace_list() -> dict[str, Any]:
        authorize()
        kept = traces.snapshot()
        listed = [t.as_dict(spans=False) for t in reversed(kept)][:TRACES_LISTED]
        return {
            "traces": listed,
            "count": len(listed),
            "buffered": len(kept),
            "scope": "environment",
            "environment": answering(),
        }

    @router.get("/api/v2/ops/traces/<correlation_id>", tags=["ops"])
    def trace_detail(correlation_id: str) -> dict[str, Any]:
        authorize()
        found = traces.find(correlation_id)
        if found is None:
            raise ApiError(
                404,
                "NOT_FOUND",
                "no trace of that correlation ID is kept by the environment that answered "
                f"({deps.instance}); a request served by another environment is traced there",
            )
        return {**found.as_dict(), "environment": answering()}

    @router.get("/api/v2/ops/table", tags=["ops"])
    def table_items() -> dict[str, Any]:
        authorize()
        return table_counts.get(deps.store.census)

    return router
