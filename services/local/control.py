"""The stack's control server: what the API's execution environments (processes of their own)
ask of the stack process, over loopback.

The news pipeline runs in the stack's process, so the routes that run an ingestion cycle, read
the topic's counters or run the metrics function reach it through here. The environments also
register here once built (pid, cold start) and say when they start and finish a request, so
the stack can list them with what each is doing. Only callers holding the random token the
stack hands its environments are answered; the server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from services.clock import iso, utc_now

LOG = logging.getLogger(__name__)
TOKEN_HEADER = "x-control-token"  # noqa: S105 (a header name)
# Request beats are datagrams: an environment never waits on them, and a lost one only makes
# the listing's `busy` stale until the next.
_BUSY, _IDLE = b"busy", b"idle"


@dataclass
class Environment:
    """One execution environment as the stack sees it."""

    pid: int
    cold_start_ms: float
    registered_at: str
    requests_served: int = 0
    busy: bool = False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EnvironmentRegistry:
    """The environments that registered and are still running."""

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self._environments: dict[int, Environment] = {}
        self._changed = threading.Condition()
        self.on_change = on_change

    def register(self, pid: int, cold_start_ms: float) -> None:
        with self._changed:
            self._environments[pid] = Environment(pid, round(cold_start_ms, 1), iso(utc_now()))
            self._changed.notify_all()
        if self.on_change is not None:
            self.on_change()

    def beat(self, pid: int, busy: bool) -> None:
        with self._changed:
            environment = self._environments.get(pid)
            if environment is None:
                return
            if environment.busy and not busy:
                environment.requests_served += 1
            environment.busy = busy

    def listing(self) -> list[dict[str, Any]]:
        """The running environments, oldest first; those that exited are forgotten."""
        with self._changed:
            for pid in [pid for pid in self._environments if not _alive(pid)]:
                del self._environments[pid]
            return [asdict(e) for e in self._environments.values()]

    def wait_for(self, count: int, timeout_s: float, keep_waiting: Callable[[], bool]) -> bool:
        """True once `count` environments run; False on time-out or when `keep_waiting` says
        there is no point (the pool exited)."""
        with self._changed:
            return (
                self._changed.wait_for(
                    lambda: len(self._environments) >= count or not keep_waiting(), timeout_s
                )
                and len(self._environments) >= count
            )


@dataclass(frozen=True)
class PipelineControls:
    """The in-process pipeline's entry points the API's routes use."""

    run_ingestion: Callable[[], dict[str, Any]]
    stats: Callable[[], dict[str, int]]
    run_metrics: Callable[[], dict[str, Any]]


class _ControlHandler(BaseHTTPRequestHandler):
    server: _ControlHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        control = self.server.control
        if not hmac.compare_digest(self.headers.get(TOKEN_HEADER, ""), control.token):
            self._answer(403, {"error": "forbidden"})
            return
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        route = (self.command, self.path)
        pipeline = control.pipeline
        try:
            if route == ("POST", "/environments"):
                control.registry.register(int(body["pid"]), float(body["cold_start_ms"]))
                self._answer(200, {})
            elif route == ("GET", "/environments"):
                self._answer(200, control.registry.listing())
            elif pipeline is not None and route == ("POST", "/pipeline/ingestion"):
                self._answer(200, pipeline.run_ingestion())
            elif pipeline is not None and route == ("GET", "/pipeline/stats"):
                self._answer(200, pipeline.stats())
            elif pipeline is not None and route == ("POST", "/pipeline/metrics"):
                self._answer(200, pipeline.run_metrics())
            else:
                self._answer(404, {"error": "no such control route"})
        except Exception:
            LOG.exception("control route %s %s failed", self.command, self.path)
            self._answer(500, {"error": "the stack failed to run it"})

    def _answer(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ControlHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, control: ControlServer) -> None:
        self.control = control
        super().__init__(("127.0.0.1", 0), _ControlHandler)


class ControlServer:
    """Serves the registry and the pipeline's entry points to the environments."""

    def __init__(
        self, registry: EnvironmentRegistry, pipeline: PipelineControls | None = None
    ) -> None:
        self.registry = registry
        self.pipeline = pipeline
        self.token = secrets.token_urlsafe(32)
        self._http = _ControlHTTPServer(self)
        self._beats = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._beats.bind(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def beat_port(self) -> int:
        return int(self._beats.getsockname()[1])

    def start(self) -> ControlServer:
        for target, name in ((self._http.serve_forever, "control"), (self._read_beats, "beats")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _read_beats(self) -> None:
        while True:
            try:
                datagram = self._beats.recv(64)
            except OSError:
                return  # closed by stop()
            state, _, pid = datagram.partition(b" ")
            if state in (_BUSY, _IDLE) and pid.isdigit():
                self.registry.beat(int(pid), busy=state == _BUSY)

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        # A datagram to ourselves wakes the reader; closing alone does not interrupt recv.
        self._beats.sendto(b"stop", ("127.0.0.1", self.beat_port))
        self._beats.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []


@dataclass(frozen=True)
class ControlAddress:
    """Where an environment finds the control server, and the token it shows."""

    url: str
    token: str
    beat_port: int
    pipeline: bool


class ControlClient:
    """The control server from inside an environment: the pipeline's entry points with the
    signatures `ApiDependencies` takes, registration and request beats."""

    def __init__(self, address: ControlAddress, timeout_s: float) -> None:
        self.address = address
        self._http = httpx.Client(
            base_url=address.url, headers={TOKEN_HEADER: address.token}, timeout=timeout_s
        )
        self._beats = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._pid = str(os.getpid()).encode()

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        response = self._http.request(method, path, json=payload)
        response.raise_for_status()
        return response.json()

    def register(self, cold_start_ms: float) -> None:
        self._call("POST", "/environments", {"pid": os.getpid(), "cold_start_ms": cold_start_ms})

    def environments(self) -> list[dict[str, Any]]:
        listing: list[dict[str, Any]] = self._call("GET", "/environments")
        return listing

    def run_ingestion(self) -> dict[str, Any]:
        summary: dict[str, Any] = self._call("POST", "/pipeline/ingestion")
        return summary

    def pipeline_stats(self) -> dict[str, int]:
        stats: dict[str, int] = self._call("GET", "/pipeline/stats")
        return stats

    def run_metrics(self) -> dict[str, Any]:
        snapshot: dict[str, Any] = self._call("POST", "/pipeline/metrics")
        return snapshot

    def busy(self, busy: bool) -> None:
        """Says this environment started (True) or finished (False) a request."""
        state = _BUSY if busy else _IDLE
        # When the stack is going away the request is served all the same.
        with contextlib.suppress(OSError):
            self._beats.sendto(state + b" " + self._pid, ("127.0.0.1", self.address.beat_port))
