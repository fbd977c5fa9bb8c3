"""The API's execution environments: a pool of worker processes behind one local Function URL.

Lambda serves concurrent requests from more execution environments, each serving one request
at a time. So does the pool: a gunicorn master (`api_pool_server`) in a process of its own,
started with `processes.spawn` (its own process group, SIGTERM when this process dies), forks
`workers` sync workers, each building the handler once and serving one request at a time.

The listening socket is bound here, before anything starts, so the API's URL is known up front
(the stack's settings name it) and no other process can take the port in between; the pool's
process inherits it and this process closes its own copy, so the port is free again as soon as
the pool is gone. A small control server here answers the environments: the pipeline's entry
points, registrations and request beats (`control`).

    pool = ApiPool("services.local.reference_handler:build_handler", workers=4).start(Settings())
    ... pool.url ...
    pool.stop()
"""

from __future__ import annotations

import json
import math
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from services.local.control import (
    ControlAddress,
    ControlServer,
    EnvironmentRegistry,
    PipelineControls,
)
from services.local.paths import project_root
from services.local.processes import PortInUseError, spawn, stop_process
from services.settings import Settings

DASHBOARD_FACTORY = "services.local.api_environment:build_dashboard_handler"
# How long the pool's master waits for busy environments when told to stop.
GRACEFUL_TIMEOUT_S = 2
_BACKLOG = 128


class PoolStartError(RuntimeError):
    """The pool's environments did not all start."""


def revealed(settings: Settings) -> dict[str, Any]:
    """The settings as JSON values, secrets included: only for the pool's own process."""
    values = settings.model_dump()
    return {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in values.items()
    }


class ApiPool:
    """`workers` execution environments serving the handler `factory` builds on `host:port`.

    `factory` is an import string `module:attribute` naming a callable
    `(settings, control_client) -> handler`, called once in each environment.
    """

    def __init__(
        self,
        factory: str = DASHBOARD_FACTORY,
        *,
        workers: int,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout_s: float = 30.0,
        function_name: str = "dashboard",
        state_dir: Path | None = None,
        log_file: Path | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("a pool needs at least one execution environment")
        self.factory = factory
        self.workers = workers
        self.timeout_s = timeout_s
        self.function_name = function_name
        self._state_dir = state_dir
        self._log_file = log_file
        self._socket: socket.socket | None = _listening_socket(host, port)
        self._domain = f"{host}:{self._socket.getsockname()[1]}"
        self.registry = EnvironmentRegistry()
        self._control: ControlServer | None = None
        self._process: Any = None

    @property
    def url(self) -> str:
        return f"http://{self._domain}"

    @property
    def pid(self) -> int | None:
        """The pool's master process (every environment is its child)."""
        return self._process.pid if self._process is not None else None

    def environments(self) -> list[dict[str, Any]]:
        """The running environments: pid, cold start, requests served, busy."""
        return self.registry.listing()

    def start(
        self,
        settings: Settings,
        *,
        pipeline: PipelineControls | None = None,
        ready_timeout_s: float = 180.0,
    ) -> ApiPool:
        """Starts the environments with `settings` and returns once each has built its handler.
        Call from the main thread (see `processes.spawn`)."""
        assert self._socket is not None, "a pool starts once"
        try:
            self._start(settings, pipeline, ready_timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(
        self, settings: Settings, pipeline: PipelineControls | None, ready_timeout_s: float
    ) -> None:
        assert self._socket is not None
        self._control = ControlServer(self.registry, pipeline).start()
        plan = {
            "factory": self.factory,
            "settings": revealed(settings),
            "workers": self.workers,
            "timeout_s": max(1, math.ceil(self.timeout_s)),
            "graceful_timeout_s": GRACEFUL_TIMEOUT_S,
            "listen_fd": self._socket.fileno(),
            "domain": self._domain,
            "function_name": self.function_name,
            "control": ControlAddress(
                self._control.url,
                self._control.token,
                self._control.beat_port,
                pipeline is not None,
            ).__dict__,
        }
        plan_file = _private_file(self._state_dir, json.dumps(plan, default=str))
        command = [sys.executable, "-m", "services.local.api_pool_server", str(plan_file)]
        log = self._log_file.open("ab") if self._log_file else None
        try:
            self._process = spawn(
                command, cwd=project_root(), log=log, pass_fds=(self._socket.fileno(),)
            )
        finally:
            if log is not None:
                log.close()
        # The pool's process holds the port now; ours would keep it bound after the pool.
        self._socket.close()
        self._socket = None
        process = self._process
        ready = self.registry.wait_for(
            self.workers, ready_timeout_s, keep_waiting=lambda: process.poll() is None
        )
        plan_file.unlink(missing_ok=True)
        if self._state_dir is None:
            plan_file.parent.rmdir()
        if not ready:
            where = f" (see {self._log_file})" if self._log_file else ""
            raise PoolStartError(
                f"{len(self.environments())} of {self.workers} API environments started{where}"
            )

    def stop(self) -> None:
        """Stops every environment and the master; safe to call twice."""
        if self._process is not None:
            # The master stops its workers (busy ones get the graceful time-out), then exits.
            stop_process(self._process, timeout_s=GRACEFUL_TIMEOUT_S + 8.0)
            self._process = None
        if self._control is not None:
            self._control.stop()
            self._control = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _listening_socket(host: str, port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Like any server: connections of a previous run in TIME_WAIT do not hold the port.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise PortInUseError("the API (Function URL)", host, port) from error
    listener.listen(_BACKLOG)
    return listener


def _private_file(directory: Path | None, text: str) -> Path:
    """A file only this user can read (mode 600), in `directory` or a private temporary one."""
    folder = directory or Path(tempfile.mkdtemp(prefix="api-pool-"))
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="api-pool-", suffix=".json", dir=folder)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return Path(name)
