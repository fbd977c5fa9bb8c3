"""`python -m services.local up|down|status`: run the embedded stack from a shell."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from services.local.api_pool import PoolStartError
from services.local.dynamodb_local import DynamoDBLocalError
from services.local.paths import LocalPaths, project_root
from services.local.processes import PortInUseError, die_with_parent
from services.local.stack import LocalStack, StackOptions
from services.observability import install_log_sanitiser
from services.settings import Settings, get_settings


def _paths(settings: Settings) -> LocalPaths:
    root = project_root()
    if settings.local_state_dir:
        # LocalPaths puts state in <root>/.local; a custom state dir replaces that folder.
        state = Path(settings.local_state_dir).resolve()
        return LocalPaths(root=root, state_dir_override=state)
    return LocalPaths(root=root)


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the stack and serve until Ctrl-C or SIGTERM")
    up.add_argument("--api-port", type=int, default=settings.local_api_port)
    up.add_argument("--dynamodb-port", type=int, default=settings.local_dynamodb_port)
    up.add_argument("--workbench-port", type=int, default=settings.local_workbench_port)
    up.add_argument(
        "--api-workers",
        type=int,
        default=settings.local_api_workers,
        help="the API's execution environments (worker processes; default: one per core)",
    )
    up.add_argument("--workbench", action="store_true", help="also `panel serve` the workbench")
    up.add_argument(
        "--in-memory", action="store_true", help="DynamoDB Local -inMemory (nothing persists)"
    )
    up.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the launching process (e.g. make) dies",
    )
    commands.add_parser("down", help="stop the stack started from this checkout")
    commands.add_parser("status", help="print the running stack and its health")
    return parser


def _up(args: argparse.Namespace, settings: Settings, paths: LocalPaths) -> int:
    if args.exit_with_parent:
        die_with_parent()
    options = StackOptions(
        paths=paths,
        settings=settings,
        api_port=args.api_port,
        dynamodb_port=args.dynamodb_port,
        in_memory=args.in_memory,
        workbench=args.workbench,
        workbench_port=args.workbench_port,
        api_workers=args.api_workers,
        # History on first start, in the background: the page is usable at once.
        backfill=True,
        backfill_progress=lambda line: print(line, flush=True),
    )
    stop = threading.Event()

    def request_stop(signum: int, _: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    stack = LocalStack(options)
    try:
        stack.start()
    except (PortInUseError, DynamoDBLocalError, PoolStartError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        info = stack.describe()
        print("Embedded stack is up:")
        for name in (
            "api_url", "dynamodb_endpoint", "table_name", "tiingo_url", "finnhub_url",
            "oidc_url", "workbench_url",
        ):  # fmt: skip
            if info.get(name):
                print(f"  {name:18} {info[name]}")
        where = "in memory" if args.in_memory else str(paths.dynamodb_dir)
        print(f"  {'data':18} {where}")
        print(f"  {'api environments':18} {_environments_line(info['api_environments'])}")
        print(f"  {'operator token':18} {paths.operator_token_file}")
        print("Stop with Ctrl-C (or `python -m services.local down`).", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        print("Stopping the embedded stack...", flush=True)
        stack.stop()
    return 0


def _environments_line(environments: list[dict[str, Any]]) -> str:
    """`2: pid 123 (cold start 850 ms), pid 124 (cold start 910 ms)`."""
    described = [f"pid {e['pid']} (cold start {e['cold_start_ms']:.0f} ms)" for e in environments]
    return f"{len(environments)}: " + ", ".join(described)


def _down(paths: LocalPaths) -> int:
    if not paths.stack_file.exists():
        print("no stack is running from this checkout")
        return 0
    pid = int(json.loads(paths.stack_file.read_text())["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        paths.stack_file.unlink(missing_ok=True)
        print("the recorded stack was not running; cleaned up its stack file")
        return 0
    print(f"sent SIGTERM to the stack (pid {pid})")
    return 0


def _status(paths: LocalPaths) -> int:
    if not paths.stack_file.exists():
        print("no stack is running from this checkout")
        return 1
    info = json.loads(paths.stack_file.read_text())
    print(json.dumps(info, indent=2))
    print(f"environments: {_environments_line(info.get('api_environments') or [])}")
    try:
        health = httpx.get(f"{info['api_url']}/health", timeout=5).json()
    except httpx.HTTPError as error:
        print(f"health: unreachable ({error})")
        return 1
    print(f"health: {health['status']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # One line per provider request would bury the terminal's own lines (start-up, the
    # backfill's progress, each cycle's summary); failures still show as warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The stack's own loggers (runtime, emulators, adapters) log what callers send it.
    install_log_sanitiser()
    settings = get_settings()
    args = _parser(settings).parse_args(argv)
    paths = _paths(settings)
    if args.command == "up":
        return _up(args, settings, paths)
    if args.command == "down":
        return _down(paths)
    return _status(paths)


if __name__ == "__main__":
    sys.exit(main())
