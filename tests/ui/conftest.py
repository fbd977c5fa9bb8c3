"""Browser fixtures: Debian's chromium driven by Playwright, the stack serving the workbench."""

from __future__ import annotations

import re
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from services.local.paths import LocalPaths
from services.local.stack import LocalStack, StackOptions
from services.settings import Settings

CHROMIUM = "/usr/bin/chromium"
# Without these flags chromium tries the network at start-up, which this sandbox refuses.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path("reports") / "screenshots"


def application_tracebacks(log: str) -> list[str]:
    """Log records holding a traceback, less two kinds that are not ours, both from a tab
    closed mid-conversation: Bokeh sending an update to the closed websocket (tornado logs
    it), and the tab's last message arriving after Bokeh detached its session."""
    records = re.split(r"\n(?=\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d+ )", log)
    return [
        record
        for record in records
        if "Traceback" in record
        and not ("never retrieved" in record and "WebSocketClosedError" in record)
        and not ("error handling message" in record and "self._session is not None" in record)
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_workbench_stack(
    root: Path,
    state: Path,
    *,
    api_workers: int | None = 1,
    in_memory: bool = True,
    backfill: bool = False,
) -> LocalStack:
    """A stack serving the workbench, once its page answers. One execution environment by
    default: the tests follow a request into its trace, which stays in the memory of the
    environment that served it (X-Ray's job in AWS)."""
    options = StackOptions(
        paths=LocalPaths(root=root, state_dir_override=state),
        settings=Settings(),
        api_port=0,
        dynamodb_port=0,
        in_memory=in_memory,
        workbench=True,
        workbench_port=free_port(),
        api_workers=api_workers,
        backfill=backfill,
    )
    stack = LocalStack(options).start()
    assert stack.workbench_url is not None
    wait_served(stack.workbench_url)
    return stack


def wait_served(url: str, timeout_s: float = 90.0) -> None:
    """Until the workbench's server answers its page (it starts beside the stack)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)


@pytest.fixture(scope="session")
def workbench_stack(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """One stack with the workbench for the read-only browser tests."""
    stack = start_workbench_stack(root, tmp_path_factory.mktemp("ui-stack"))
    yield stack
    stack.stop()


@pytest.fixture
def make_workbench_stack(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], LocalStack]]:
    """A private stack for a test that breaks it on purpose."""
    started: list[LocalStack] = []

    def make() -> LocalStack:
        started.append(start_workbench_stack(root, tmp_path_factory.mktemp("ui-own")))
        return started[-1]

    yield make
    for stack in started:
        stack.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make ui` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
