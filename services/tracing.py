"""Per-request timing breakdowns (traces) of the dashboard API, kept in memory.

A trace is one request: its correlation ID, route, status and total time, and the spans it
spent its time in: the session read made before the request is resolved, the rate limit,
the route handler, and every DynamoDB call (timed by botocore hooks on the table's client).
The last `capacity` traces of this process are kept, for the workbench's trace view; in AWS
the same breakdown is what X-Ray shows. With several execution environments each keeps its
own: `/api/v2/ops/traces` says which environment answered (`services.api.ops_observability`).

Spans are collected per thread: a request is resolved on one thread from its session read to
its answer, while other threads (the local pipeline's workers) use the same table client.
DynamoDB calls a thread makes while no trace is open on it are held (a few, briefly) and
adopted by the next trace opened on that thread: that is how the session read, which the
function makes before the resolver (and so before any middleware) runs, joins its request.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_HOOK_ID = "tracing-dynamodb"
# Calls made outside a trace older than this belong to no request that is starting now.
ADOPT_WITHIN_S = 5.0
HELD_CALLS = 20


@dataclass
class Span:
    name: str
    kind: str
    started: float
    ended: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, origin: float) -> dict[str, Any]:
        ended = self.ended if self.ended is not None else self.started
        return {
            "name": self.name,
            "kind": self.kind,
            "start_ms": round((self.started - origin) * 1000, 3),
            "duration_ms": round((ended - self.started) * 1000, 3),
            **({"detail": self.detail} if self.detail else {}),
        }


@dataclass
class Trace:
    method: str
    path: str
    started: float
    started_at: str
    correlation_id: str | None = None
    status: int | None = None
    error: str | None = None
    ended: float | None = None
    spans: list[Span] = field(default_factory=list)

    def as_dict(self, *, spans: bool = True) -> dict[str, Any]:
        origin = min([self.started, *(s.started for s in self.spans)])
        ended = self.ended if self.ended is not None else self.started
        dynamodb = [s for s in self.spans if s.kind == "dynamodb"]
        body: dict[str, Any] = {
            "correlation_id": self.correlation_id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "error": self.error,
            "started_at": self.started_at,
            "duration_ms": round((ended - origin) * 1000, 3),
            "span_count": len(self.spans),
            "dynamodb_calls": len(dynamodb),
            "dynamodb_ms": round(
                sum((s.ended or s.started) - s.started for s in dynamodb) * 1000, 3
            ),
        }
        if spans:
            body["spans"] = [s.as_dict(origin) for s in sorted(self.spans, key=lambda s: s.started)]
        return body


class TraceBuffer:
    """The last `capacity` finished traces, newest last."""

    def __init__(self, capacity: int = 500, clock: Callable[[], float] = time.perf_counter) -> None:
        self._traces: deque[Trace] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._local = threading.local()
        self.clock = clock

    # --- the current thread's trace ---------------------------------------------------------

    def current(self) -> Trace | None:
        trace: Trace | None = getattr(self._local, "trace", None)
        return trace

    def _held(self) -> deque[Span]:
        held: deque[Span] | None = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = deque(maxlen=HELD_CALLS)
        return held

    def begin(self, method: str, path: str) -> Trace:
        now = self.clock()
        trace = Trace(method, path, now, datetime.now(UTC).isoformat().replace("+00:00", "Z"))
        held = self._held()
        for span in held:
            if now - span.started <= ADOPT_WITHIN_S:
                if span.kind == "dynamodb":
                    span.detail.setdefault("phase", "before the resolver (session check)")
                trace.spans.append(span)
        held.clear()
        self._local.trace = trace
        return trace

    def end(self, trace: Trace, *, keep: bool = True) -> None:
        trace.ended = self.clock()
        self._local.trace = None
        if keep:
            with self._lock:
                self._traces.append(trace)

    @contextmanager
    def span(self, name: str, kind: str, **detail: Any) -> Iterator[Span | None]:
        trace = self.current()
        if trace is None:
            yield None
            return
        span = Span(name, kind, self.clock(), detail=dict(detail))
        trace.spans.append(span)
        try:
            yield span
        finally:
            # A span may have ended earlier (a middleware's own time ends where it hands on).
            if span.ended is None:
                span.ended = self.clock()

    @contextmanager
    def span_before_trace(self, name: str, kind: str, **detail: Any) -> Iterator[Span]:
        """A span of work this thread does before its request's trace opens (the function's
        own checks ahead of the resolver): held, and adopted by that trace like the session
        read's DynamoDB calls."""
        span = Span(name, kind, self.clock(), detail=dict(detail))
        trace = self.current()
        if trace is None:
            self._held().append(span)
        else:
            trace.spans.append(span)
        try:
            yield span
        finally:
            span.ended = self.clock()

    # --- DynamoDB calls, from botocore's events -----------------------------------------

    def before_call(self, model: Any = None, context: Any = None, **_: Any) -> None:
        span = Span(f"DynamoDB {getattr(model, 'name', '?')}", "dynamodb", self.clock())
        if isinstance(context, dict):
            context["trace_span"] = span
        trace = self.current()
        if trace is None:
            self._held().append(span)
        else:
            trace.spans.append(span)

    def after_call(self, context: Any = None, http_response: Any = None, **_: Any) -> None:
        span = context.get("trace_span") if isinstance(context, dict) else None
        if isinstance(span, Span):
            span.ended = self.clock()
            status = getattr(http_response, "status_code", None)
            if status is not None:
                span.detail["http_status"] = status

    def watch(self, client: Any) -> None:
        """Time every call made through `client` (a boto3 DynamoDB client). Safe to call
        again: botocore keeps one handler per unique id."""
        events = client.meta.events
        hook = f"{_HOOK_ID}-{id(self)}"
        events.register("before-call.dynamodb", self.before_call, unique_id=f"{hook}-before")
        events.register("after-call.dynamodb", self.after_call, unique_id=f"{hook}-after")

    # --- reading ------------------------------------------------------------------------

    def snapshot(self) -> list[Trace]:
        with self._lock:
            return list(self._traces)

    def find(self, correlation_id: str) -> Trace | None:
        for trace in reversed(self.snapshot()):
            if trace.correlation_id == correlation_id:
                return trace
        return None


TRACES = TraceBuffer()
