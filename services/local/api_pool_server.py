"""The pool's own process: a gunicorn master whose sync workers are the function's execution
environments. Started by `api_pool.ApiPool` as `python -m services.local.api_pool_server PLAN`.

Each worker builds the handler once after it is forked (its cold start, measured and reported
to the stack's control server) and serves one request at a time. A request still running at
the function's timeout is answered 504 by the worker gunicorn aborts, and gunicorn starts a
new environment in its place. Requests gunicorn refuses itself (a malformed request line or
framing) are answered with the API's envelope and a correlation ID, not gunicorn's HTML page.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.http import errors as http_errors
from gunicorn.workers.sync import SyncWorker

from services.local.control import ControlAddress, ControlClient
from services.local.function_url_event import (
    Handler,
    HttpAnswer,
    RequestRefusedError,
    joined_headers,
    refusal_answer,
)
from services.local.processes import die_with_parent
from services.local.wsgi_function_url import InFlight, WsgiApp, function_url_app, raw_http
from services.settings import Settings

# The request this process is serving, when it is an environment (one at a time).
IN_FLIGHT = InFlight()


@dataclass(frozen=True)
class PoolPlan:
    """What the pool's process is told by the stack (as a 0600 file it removes once read)."""

    factory: str
    settings: dict[str, Any]
    workers: int
    timeout_s: int
    graceful_timeout_s: int
    listen_fd: int
    domain: str
    function_name: str
    control: ControlAddress

    @classmethod
    def read(cls, path: Path) -> PoolPlan:
        data = json.loads(path.read_text())
        return cls(**{**data, "control": ControlAddress(**data["control"])})


def load_factory(import_string: str) -> Any:
    """`module:attribute`, imported."""
    module_name, _, attribute = import_string.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def _parse_error_refusal(error: BaseException, headers: dict[str, str]) -> RequestRefusedError:
    """What the Function URL would answer for a request gunicorn could not parse."""
    codings = [c.strip().lower() for c in headers.get("transfer-encoding", "").split(",")]
    # gunicorn refuses a coding it knows but cannot frame a body with (gzip alone) as a bad
    # header; to the caller it is the same as one it does not know.
    unframed = "transfer-encoding" in headers and "chunked" not in codings
    if isinstance(error, http_errors.UnsupportedTransferCoding) or (
        isinstance(error, http_errors.InvalidHeader) and unframed
    ):
        return RequestRefusedError(
            501, "UNSUPPORTED_TRANSFER_ENCODING", "only chunked transfer encoding is supported"
        )
    if isinstance(error, http_errors.LimitRequestLine):
        return RequestRefusedError(414, "MALFORMED_REQUEST", "the request line is too long")
    if isinstance(error, http_errors.LimitRequestHeaders):
        return RequestRefusedError(431, "MALFORMED_REQUEST", "the request's headers are too large")
    if isinstance(error, http_errors.ExpectationFailed):
        return RequestRefusedError(417, "MALFORMED_REQUEST", "the expectation cannot be met")
    return RequestRefusedError(400, "MALFORMED_REQUEST", "the request is not valid HTTP/1.1")


class EnvelopeWorker(SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker, answering its own refusals in the API's envelope."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if isinstance(exc, SystemExit):
            return  # aborted at the time-out: `_answer_timeout` has answered already
        req = req or getattr(exc, "req", None)
        headers = joined_headers(getattr(req, "headers", None) or [])
        if isinstance(exc, http_errors.ParseException | http_errors.NoMoreData):
            self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
            refusal = _parse_error_refusal(exc, headers)
        else:
            self.log.exception("Error handling request")
            refusal = RequestRefusedError(500, "INTERNAL_ERROR", "the server failed to answer")
        answer: HttpAnswer = refusal_answer(refusal, headers)
        with contextlib.suppress(OSError):  # the caller left
            client.sendall(raw_http(answer, close=True))


def _die_with_master(server: Any, worker: Any) -> None:
    # An environment has no use once its master is gone (killed outright): nobody would
    # replace or stop it. SIGKILL, because a busy sync worker finishes its request first.
    die_with_parent(signal.SIGKILL)


def _answer_timeout(worker: Any) -> None:
    IN_FLIGHT.answer_timeout()


class EnvironmentPool(BaseApplication):  # type: ignore[misc]
    """gunicorn run from code: the configuration is the plan's, never the command line's."""

    def __init__(self, plan: PoolPlan) -> None:
        self.plan = plan
        super().__init__()

    def load_config(self) -> None:
        plan = self.plan
        for name, value in {
            "bind": [f"fd://{plan.listen_fd}"],
            "workers": plan.workers,
            "worker_class": EnvelopeWorker,
            "timeout": plan.timeout_s,
            "graceful_timeout": plan.graceful_timeout_s,
            "post_fork": _die_with_master,
            "worker_abort": _answer_timeout,
            "control_socket_disable": True,
            # A query string as long as a caller sends reaches the function, which answers what
            # is wrong with it (AWS bounds a request by its size, not by its request line).
            "limit_request_line": 0,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": f"{plan.function_name}-environments",
        }.items():
            self.cfg.set(name, value)

    def load(self) -> WsgiApp:
        """In each worker, after it is forked: the environment's cold start."""
        started = time.perf_counter()
        plan = self.plan
        settings = Settings.model_validate(plan.settings)
        control = ControlClient(plan.control, timeout_s=plan.timeout_s)
        handler: Handler = load_factory(plan.factory)(settings, control)
        control.register(cold_start_ms=(time.perf_counter() - started) * 1000.0)
        return function_url_app(
            handler,
            domain=plan.domain,
            function_name=plan.function_name,
            in_flight=IN_FLIGHT,
            on_busy=control.busy,
        )


def main(argv: list[str]) -> int:
    plan_file = Path(argv[1])
    plan = PoolPlan.read(plan_file)
    # It holds the settings' secrets: read once, then gone (the workers are forked from here).
    plan_file.unlink(missing_ok=True)
    os.set_inheritable(plan.listen_fd, True)
    EnvironmentPool(plan).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
