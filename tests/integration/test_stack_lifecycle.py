"""The embedded stack as a user runs it: `python -m services.local up`, signals, restarts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.settings import Settings
from services.store import DynamoUserRepository
from services.store.models import User
from services.store.table import dynamodb_table

pytestmark = pytest.mark.integration


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not collected it yet.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def wait_for(predicate: Any, timeout_s: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def api_processes(info: dict[str, Any]) -> list[int]:
    """The API pool's master and each of its execution environments."""
    return [info["api_pool_pid"], *(e["pid"] for e in info["api_environments"])]


def port_free(url: str) -> bool:
    """Whether the API's port can be bound again (nothing listens on it any more)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, int(port)))
        except OSError:
            return False
        return True


def assert_api_gone(info: dict[str, Any]) -> None:
    """No environment, no master, and the API's port free: nothing of the API outlives it."""
    pids = api_processes(info)
    wait_for(lambda: not any(alive(pid) for pid in pids), 20, "every API process to exit")
    wait_for(lambda: port_free(info["api_url"]), 10, "the API's port to be free")


def start_stack(root: Path, state: Path, *extra: str, command: list[str] | None = None):
    # No history backfill: these tests are about starting and stopping, and on two cores a
    # backfill beside the workbench's start takes the time they give it (the backfill's own
    # start, stop and resume: tests/e2e/test_history_backfill.py).
    env = {**os.environ, "LOCAL_STATE_DIR": str(state), "LOCAL_BACKFILL_DAYS": "0"}
    args = command or [sys.executable, "-m", "services.local", "up", "--api-port", "0",
                       "--dynamodb-port", "0", "--api-workers", "2", *extra]  # fmt: skip
    process = subprocess.Popen(
        args, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    stack_file = state / "stack.json"
    wait_for(lambda: stack_file.exists() or process.poll() is not None, what="stack.json")
    assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
    return process, json.loads(stack_file.read_text())


def test_up_writes_stack_file_and_operator_token_then_stops_cleanly(root, tmp_path) -> None:
    process, info = start_stack(root, tmp_path, "--in-memory")
    try:
        assert httpx.get(f"{info['api_url']}/health").json()["status"] == "healthy"
        assert info["table_name"] and info["dynamodb_endpoint"].startswith("http://127.0.0.1:")
        token_file = tmp_path / "operator-token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert len(token_file.read_text().strip()) >= 32
        assert alive(info["dynamodb_pid"])
        assert len(info["api_environments"]) == 2
        assert all(alive(pid) for pid in api_processes(info))
        assert all(e["cold_start_ms"] > 0 for e in info["api_environments"])
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0
    wait_for(lambda: not alive(info["dynamodb_pid"]), 15, "java to exit")
    assert_api_gone(info)
    assert not (tmp_path / "stack.json").exists()


def test_down_stops_the_stack_and_every_api_environment(root, tmp_path) -> None:
    # Given a running stack, When `python -m services.local down` is run from the checkout
    process, info = start_stack(root, tmp_path, "--in-memory")
    env = {**os.environ, "LOCAL_STATE_DIR": str(tmp_path)}
    status = subprocess.run(
        [sys.executable, "-m", "services.local", "status"],
        cwd=root, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    try:
        assert f"environments: 2: pid {info['api_environments'][0]['pid']}" in status.stdout
        subprocess.run(
            [sys.executable, "-m", "services.local", "down"], cwd=root, env=env, timeout=60
        )
        # Then the stack exits, and with it every process of the API, leaving its port free
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert_api_gone(info)


def test_killing_the_stack_outright_still_takes_java_down(root, tmp_path) -> None:
    # Given a running stack, When it is killed with SIGKILL (no chance to clean up),
    # Then the kernel's parent-death signal still ends DynamoDB Local.
    process, info = start_stack(root, tmp_path, "--in-memory")
    process.kill()
    process.wait(timeout=10)
    wait_for(lambda: not alive(info["dynamodb_pid"]), 20, "orphaned java to exit")
    # ... and the API's pool (its master's parent-death signal; its workers die with it).
    assert_api_gone(info)


def test_data_written_through_the_stack_survives_down_and_up(root, tmp_path) -> None:
    process, info = start_stack(root, tmp_path)
    try:
        assert info["dynamodb_persistent"] is True
        settings = Settings(
            dynamodb_endpoint=info["dynamodb_endpoint"], table_name=info["table_name"]
        )
        DynamoUserRepository(dynamodb_table(settings)).create(
            User("survivor", "anonymous", created_at=datetime.now(UTC))
        )
        token = (tmp_path / "operator-token").read_text()
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        process.wait(timeout=30)
    assert_api_gone(info)
    process, info = start_stack(root, tmp_path)
    try:
        settings = Settings(
            dynamodb_endpoint=info["dynamodb_endpoint"], table_name=info["table_name"]
        )
        assert DynamoUserRepository(dynamodb_table(settings)).get("survivor").user_id == "survivor"
        assert (tmp_path / "operator-token").read_text() == token  # reused, not rotated
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_a_port_in_use_is_a_clear_error(root, tmp_path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "services.local", "up", "--in-memory",
             "--api-port", str(port), "--dynamodb-port", "0"],
            cwd=root, env={**os.environ, "LOCAL_STATE_DIR": str(tmp_path)},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_workbench_leaves_nothing_behind_after_sigterm(root, tmp_path) -> None:
    # The README's command, stopped the way a supervisor stops it.
    port = _free_ports(1)[0]
    stack_args = f"--in-memory --api-port 0 --dynamodb-port 0 --workbench-port {port}"
    command = ["make", "--no-print-directory", "workbench", f"ARGS={stack_args}"]
    process, info = start_stack(root, tmp_path, command=command)
    children = [info["pid"], info["dynamodb_pid"], info["workbench_pid"], *api_processes(info)]
    try:
        wait_for(
            lambda: _answers(f"{info['workbench_url']}"), 90, "the workbench to serve its page"
        )
        assert all(alive(pid) for pid in children)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    wait_for(lambda: not any(alive(pid) for pid in children), 20, "every child to exit")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()
