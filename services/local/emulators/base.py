"""What the emulators share: a threaded HTTP server on 127.0.0.1, faults and control routes.

`HttpEmulator` is any provider (SendGrid, ...); `EmulatorServer` adds the news world that the
Tiingo and Finnhub emulators serve. Provider routes answer in the provider's wire format.
Routes under `/_emulator/` are the control plane for tests and the workbench (they exist only
here, never at the provider):

- `GET  /_emulator/health`            liveness
- `GET  /_emulator/emitted`           the oracle: every story this emulator returned (news only)
- `POST /_emulator/news`              inject stories: {"ticker", "count", "tone"} (news only)
- `POST /_emulator/faults`            {"mode": "http_500" | "http_429" | "slow", "duration_s",
                                      "delay_s"}; `DELETE` clears it
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Self
from urllib.parse import parse_qs, urlsplit

from services.local.emulators.world import PROVIDERS, NewsWorld, ProviderName, Story

LOG = logging.getLogger(__name__)
FaultMode = Literal["http_500", "http_429", "slow"]
FAULT_MODES: tuple[FaultMode, ...] = ("http_500", "http_429", "slow")
TONES = ("positive", "negative", "neutral")


class PortInUseError(RuntimeError):
    pass


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None


@dataclass(frozen=True)
class Response:
    """`body` is sent as JSON, except bytes, which are sent as they are (b"" for no body)."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class FaultSwitch:
    """A fault that lasts until `until` (monotonic seconds), or until cleared."""

    mode: FaultMode | None = None
    until: float = 0.0
    delay_s: float = 2.0
    injected: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, mode: FaultMode, duration_s: float, delay_s: float = 2.0) -> None:
        with self._lock:
            self.mode, self.until, self.delay_s = mode, time.monotonic() + duration_s, delay_s

    def clear(self) -> None:
        with self._lock:
            self.mode = None

    def active(self) -> FaultMode | None:
        with self._lock:
            self._expire()
            if self.mode is not None:
                self.injected += 1
            return self.mode

    def describe(self) -> dict[str, Any]:
        with self._lock:
            # A fault past its duration is over, even before a request has noticed.
            self._expire()
            remaining = max(0.0, self.until - time.monotonic()) if self.mode else 0.0
            return {
                "mode": self.mode,
                "remaining_s": round(remaining, 1),
                "injected": self.injected,
            }

    def _expire(self) -> None:
        if self.mode is not None and time.monotonic() >= self.until:
            self.mode = None


class RateWindow:
    """At most `per_minute` calls in any rolling minute (the provider's plan limit); 0 = off."""

    def __init__(self, per_minute: int = 0) -> None:
        self.per_minute = per_minute
        self._calls: list[float] = []
        self._lock = threading.Lock()

    def admit(self) -> float | None:
        """None when admitted, else the seconds until a call would be."""
        if self.per_minute <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            self._calls = [t for t in self._calls if now - t < 60.0]
            if len(self._calls) >= self.per_minute:
                return 60.0 - (now - self._calls[0])
            self._calls.append(now)
            return None


Route = Callable[[Request], Response]


class HttpEmulator:
    """Base of every provider emulator: subclasses add routes, auth and error bodies."""

    provider: str

    def __init__(self, api_key: str, *, port: int = 0, rate_limit_per_minute: int = 0) -> None:
        self.api_key = api_key
        self.port = port
        self.faults = FaultSwitch()
        self.rate = RateWindow(rate_limit_per_minute)
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._routes: list[tuple[str, Callable[[str], dict[str, str] | None], Route]] = []

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on 127.0.0.1; a restart after `stop` reuses the same port."""
        handler = _make_handler(self)
        try:
            server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        except OSError as error:
            raise PortInUseError(
                f"{self.provider} emulator: port {self.port} is in use ({error.strerror})"
            ) from error
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            # A short poll interval keeps `stop` quick (shutdown waits for the next poll).
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.provider}-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut open keep-alive connections: an outage, as a client sees it."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._connections.clear()

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The base URL the adapter is configured with (the provider's API root)."""
        return self.root_url

    # --- provider hooks --------------------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        raise NotImplementedError

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        raise NotImplementedError

    def route(
        self, method: str, pattern: Callable[[str], dict[str, str] | None], fn: Route
    ) -> None:
        self._routes.append((method, pattern, fn))

    # --- dispatch ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_emulator/"):
            return self._control(request)
        self.requests += 1
        fault = self.faults.active()
        if fault == "slow":
            time.sleep(self.faults.delay_s)
        elif fault == "http_500":
            return self.error(500, "Internal Server Error")
        elif fault == "http_429":
            return self.rate_limited(30.0)
        if not self.authorized(request):
            return self.error(401, "invalid API key")
        wait = self.rate.admit()
        if wait is not None:
            return self.rate_limited(wait)
        for method, pattern, fn in self._routes:
            params = pattern(request.path)
            if params is not None and method == request.method:
                try:
                    return fn(Request(**{**request.__dict__, "query": {**request.query, **params}}))
                except HttpError as error:
                    return error.response
        return self.error(404, f"no route for {request.method} {request.path}")

    def rate_limited(self, retry_after_s: float) -> Response:
        response = self.error(429, "rate limit exceeded")
        return Response(429, response.body, {"Retry-After": str(max(1, round(retry_after_s)))})

    def _control(self, request: Request) -> Response:
        path = request.path
        if path == "/_emulator/health":
            return Response(200, {"status": "ok", "provider": self.provider})
        if path == "/_emulator/faults":
            if request.method == "DELETE":
                self.faults.clear()
                return Response(200, self.faults.describe())
            if request.method == "POST":
                return self._set_fault(request.body)
            return Response(200, self.faults.describe())
        return Response(404, {"detail": f"no control route {request.method} {path}"})

    def _set_fault(self, body: Any) -> Response:
        if not isinstance(body, dict) or body.get("mode") not in FAULT_MODES:
            return Response(400, {"detail": f"'mode' must be one of {', '.join(FAULT_MODES)}"})
        duration, delay = body.get("duration_s", 30.0), body.get("delay_s", 2.0)
        if not all(isinstance(v, int | float) and 0 < v <= 3600 for v in (duration, delay)):
            return Response(400, {"detail": "'duration_s' and 'delay_s' must be in (0, 3600]"})
        self.faults.set(body["mode"], float(duration), float(delay))
        return Response(200, self.faults.describe())


class EmulatorServer(HttpEmulator):
    """Base of the Tiingo and Finnhub emulators: a provider serving the shared news world."""

    provider: ProviderName

    def __init__(
        self, world: NewsWorld, api_key: str, *, port: int = 0, rate_limit_per_minute: int = 0
    ) -> None:
        super().__init__(api_key, port=port, rate_limit_per_minute=rate_limit_per_minute)
        self.world = world

    def emit(self, stories: list[Story]) -> None:
        self.world.record_emitted(self.provider, stories)

    def _control(self, request: Request) -> Response:
        if request.path == "/_emulator/emitted" and request.method == "GET":
            return Response(200, [_story_json(s) for s in self.world.emitted(self.provider)])
        if request.path == "/_emulator/news" and request.method == "POST":
            return self._inject(request.body)
        return super()._control(request)

    def _inject(self, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("ticker"), str):
            return Response(400, {"detail": "body must be a JSON object with a 'ticker'"})
        count, tone = body.get("count", 1), body.get("tone")
        if not isinstance(count, int) or not 1 <= count <= 10_000:
            return Response(400, {"detail": "'count' must be an integer from 1 to 10000"})
        if tone is not None and tone not in TONES:
            return Response(400, {"detail": f"'tone' must be one of {', '.join(TONES)}"})
        try:
            stories = self.world.inject(body["ticker"], count, tone=tone)
        except ValueError as error:
            return Response(400, {"detail": str(error)})
        return Response(201, [_story_json(s) for s in stories])


def _story_json(story: Story) -> dict[str, Any]:
    return {
        "story_id": story.story_id,
        "title": story.title,
        "url": story.url,
        "published_at": story.published_at.isoformat(),
        "tickers": list(story.tickers),
        "tone": story.tone,
        "headline": story.headline,
        "providers": [p for p in PROVIDERS if p in story.providers],
    }


def _decode_body(raw: bytes, content_type: str) -> Any:
    """JSON, or an HTML form's fields (OAuth's token endpoint takes a form); None if neither."""
    if not raw:
        return None
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return {name: values[-1] for name, values in fields.items()}
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _make_handler(emulator: HttpEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            emulator.track(self.connection, open_=True)

        def finish(self) -> None:
            emulator.track(self.connection, open_=False)
            super().finish()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = _decode_body(raw, self.headers.get("Content-Type", ""))
            request = Request(
                self.command,
                parts.path,
                {k: v[-1] for k, v in parse_qs(parts.query).items()},
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            try:
                response = emulator.handle(request)
            except Exception:
                LOG.exception("%s emulator failed on %s", emulator.provider, parts.path)
                response = emulator.error(500, "Internal Server Error")
            raw_body = isinstance(response.body, bytes)
            payload = response.body if raw_body else json.dumps(response.body).encode()
            self.send_response(response.status)
            if not raw_body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            # A client that gave up (its timeout under a `slow` fault) is no error of ours.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: Any) -> None:
            # The path only: a query string may carry the caller's token.
            path = urlsplit(self.path).path
            LOG.debug("%s emulator %s %s", emulator.provider, self.command, path)

    return Handler
