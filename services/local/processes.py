"""Child processes that cannot outlive us, and ports that say clearly when they are taken."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1


class PortInUseError(RuntimeError):
    """A port the stack was asked to use is already taken."""

    def __init__(self, what: str, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} for {what} is already in use; stop whatever holds it "
            f"or choose another port (see `python -m services.local up --help`)"
        )
        self.port = port


def die_with_parent(death_signal: int = signal.SIGTERM) -> None:
    """Ask the kernel to send us `death_signal` when our parent dies (Linux only).

    This is what guarantees no orphaned java or server process: even if the stack is killed
    with SIGKILL, its children receive SIGTERM from the kernel.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, death_signal)


def spawn(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    log: IO[bytes] | None = None,
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start a child in its own process group that dies with this process; `pass_fds` are
    file descriptors it inherits (a listening socket bound here).

    Call from the main thread: the kernel ties the death signal to the spawning thread.
    """
    return subprocess.Popen(
        list(args),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        preexec_fn=die_with_parent,
        start_new_session=True,
        pass_fds=tuple(pass_fds),
    )


def stop_process(process: subprocess.Popen[bytes], *, timeout_s: float = 10.0) -> None:
    """SIGTERM the child's group, then SIGKILL if it has not exited in time."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout_s)


def ensure_port_free(what: str, host: str, port: int) -> None:
    """Raise `PortInUseError` naming the port when something already listens there."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Like the servers themselves: connections in TIME_WAIT do not count as "in use".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUseError(what, host, port) from error


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (for children that need a number up front)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
