"""Operator routes of observability: the log tail, request traces and the table's item counts.

- `GET /api/v2/ops/logs`: this process's last sanitised log records (`LOG_BUFFER`), newest
  first, filtered by minimum level, service (the function that logged) and correlation ID.
- `GET /api/v2/ops/traces`, `GET /api/v2/ops/traces/{correlation_id}`: the last requests'
  timing breakdowns (`services.tracing`), recorded by `request_tracing`, a middleware.
- `GET /api/v2/ops/table`: items per entity and per GSI of the single table, counted by a
  scan (fine for a local or small table; kept for `TABLE_COUNT_TTL_S` so polling stays cheap).

Like the rest of `/api/v2/ops/*`, they need the operator token.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.operator import require_operator
from services.observability import LOG_BUFFER, LogBuffer
from services.store.keys import entity_of
from services.store.schema import GLOBAL_INDEXES, PARTITION_KEY, SORT_KEY
from services.tracing import TRACES, TraceBuffer

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
TRACES_LISTED = 100
TABLE_COUNT_TTL_S = 15.0
# Values of a GSI's partition attribute listed, most items first (by_tag has one per ticker).
TOP_VALUES = 12
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


def _polled(method: str, path: str) -> bool:
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
        if not watched:
            traces.watch(deps.table.meta.client)
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
            polled = _polled(method, path)
            traces.end(trace, keep=not polled)
            elapsed = trace.as_dict(spans=False)["duration_ms"]
            line = {"method": method, "path": path, "status": status, "duration_ms": elapsed}
            if trace.error:
                line["raised"] = trace.error
            if polled:
                logger.debug("request answered", extra=line)
            else:
                logger.info("request answered", extra=line)

    def route_handler(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
        with traces.span("route handler", "handler", route=app.current_event.path):
            return next_middleware(app)

    return [trace_request, route_handler]


def timed(name: str, middleware: Middleware, traces: TraceBuffer = TRACES) -> Middleware:
    """`middleware` with its own time as a span (what it does before calling the next one)."""

    def wrapped(app: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
        with traces.span(name, "middleware") as span:

            def onward(inner: ApiGatewayResolver) -> Response[Any]:
                if span is not None:
                    span.ended = traces.clock()
                return next_middleware(inner)

            return middleware(app, cast(NextMiddleware, onward))

    return wrapped


class TableCounts:
    """Items per entity and per GSI, counted by scanning; one count at a time, kept briefly."""

    def __init__(self, ttl_s: float = TABLE_COUNT_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._kept: tuple[float, dict[str, Any]] | None = None

    def get(self, table: Any) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            if self._kept is not None and now - self._kept[0] < self.ttl_s:
                return {**self._kept[1], "age_s": round(now - self._kept[0], 1)}
            started = time.perf_counter()
            counted = count_table(table)
            counted["scan_ms"] = round((time.perf_counter() - started) * 1000, 1)
            self._kept = (time.monotonic(), counted)
            return {**counted, "age_s": 0.0}


def _scan(table: Any, **request: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = table.scan(**request)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def count_table(table: Any) -> dict[str, Any]:
    keys = _scan(
        table,
        ProjectionExpression="#pk, #sk",
        ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY},
    )
    entities = Counter(entity_of(str(k[PARTITION_KEY]), str(k[SORT_KEY])) for k in keys)
    indexes: dict[str, Any] = {}
    for index in GLOBAL_INDEXES:
        values = _scan(
            table,
            IndexName=index.name,
            ProjectionExpression="#p",
            ExpressionAttributeNames={"#p": index.partition_key},
        )
        by_value = Counter(str(v.get(index.partition_key)) for v in values)
        indexes[index.name] = {
            "partition_key": index.partition_key,
            "sort_key": index.sort_key,
            "items": len(values),
            "distinct_values": len(by_value),
            "top_values": dict(by_value.most_common(TOP_VALUES)),
        }
    return {
        "table": str(getattr(table, "name", "")),
        "items": len(keys),
        "entities": dict(sorted(entities.items(), key=lambda e: (-e[1], e[0]))),
        "indexes": indexes,
    }


def build_router(
    deps: ApiDependencies, logs: LogBuffer = LOG_BUFFER, traces: TraceBuffer = TRACES
) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()
    table_counts = TableCounts()

    def authorize() -> None:
        require_operator(router.current_event.headers, deps.settings)

    def query(name: str) -> str | None:
        value = router.current_event.get_query_string_value(name)
        return value.strip() if value and value.strip() else None

    @router.get("/api/v2/ops/logs", tags=["ops"])
    def log_tail() -> dict[str, Any]:
        authorize()
        level = query("level")
        if level and level.upper() not in (*LEVELS, "WARN"):
            raise ApiError(
                400,
                "BAD_PARAMETER",
                f"level must be one of {', '.join(LEVELS)}",
                {"field": "level"},
            )
        raw_limit = query("limit") or str(DEFAULT_LIMIT)
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise ApiError(
                400, "BAD_PARAMETER", f"limit must be 1 to {MAX_LIMIT}", {"field": "limit"}
            )
        records = logs.snapshot()
        chosen = filter_logs(
            records,
            level=level,
            service=query("service"),
            correlation_id=query("correlation_id"),
            limit=int(raw_limit),
        )
        return {
            "records": chosen,
            "count": len(chosen),
            "buffered": len(records),
            "services": sorted({str(r.get("service")) for r in records if r.get("service")}),
            "levels": list(LEVELS),
        }

    @router.get("/api/v2/ops/traces", tags=["ops"])
    def trace_list() -> dict[str, Any]:
        authorize()
        kept = traces.snapshot()
        listed = [t.as_dict(spans=False) for t in reversed(kept)][:TRACES_LISTED]
        return {"traces": listed, "count": len(listed), "buffered": len(kept)}

    @router.get("/api/v2/ops/traces/<correlation_id>", tags=["ops"])
    def trace_detail(correlation_id: str) -> dict[str, Any]:
        authorize()
        found = traces.find(correlation_id)
        if found is None:
            raise ApiError(404, "NOT_FOUND", "no trace of that correlation ID is kept")
        return found.as_dict()

    @router.get("/api/v2/ops/table", tags=["ops"])
    def table_items() -> dict[str, Any]:
        authorize()
        return table_counts.get(deps.table)

    return router
