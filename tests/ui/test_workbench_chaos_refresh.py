"""A chaos drill in a real browser: with `slow_upstream` on and a slow price fetch holding one of
the API's execution environments, the workbench's tiles keep refreshing every 2 s, answered by
the other environment."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.local.paths import LocalPaths
from services.local.processes import free_port
from services.local.stack import LocalStack, StackOptions
from services.settings import Settings
from tests.e2e.api_support import operator_headers, sign_in
from tests.ui.conftest import application_tracebacks

pytestmark = [pytest.mark.ui, pytest.mark.timeout(240)]

# The adapters' time-out: with `slow_upstream` on, an uncached price fetch holds its
# environment this long, longer than the page is watched.
HELD_S = 12.0
WATCHED_S = 8.0
WAIT_MS = 30_000


@pytest.fixture
def two_environment_stack(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    """A private stack serving the workbench, its API as two execution environments, its
    news pipeline's emulators up (the chaos switches live there), no scheduled cycles."""
    port = free_port()
    options = StackOptions(
        paths=LocalPaths(root=root, state_dir_override=tmp_path_factory.mktemp("ui-chaos")),
        settings=Settings(http_timeout_s=HELD_S),
        api_port=0,
        dynamodb_port=0,
        in_memory=True,
        workbench=True,
        workbench_port=port,
        schedules=False,
        api_workers=2,
    )
    stack = LocalStack(options).start()
    try:
        assert stack.workbench_url is not None
        deadline = time.monotonic() + 90
        while not _answers(stack.workbench_url):
            assert time.monotonic() < deadline, "the workbench did not start"
            time.sleep(0.3)
        yield stack
    finally:
        stack.stop()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _changes(readings: list[str]) -> int:
    return sum(1 for before, after in pairwise(readings) if after != before)


def test_tiles_keep_refreshing_while_a_slow_upstream_holds_an_environment(
    two_environment_stack: LocalStack, browser: Any
) -> None:
    stack = two_environment_stack
    assert stack.api is not None and stack.workbench_url is not None
    assert len(stack.api.environments()) >= 2
    operator = operator_headers(stack)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(stack.workbench_url)
    page.get_by_text("healthy", exact=True).first.wait_for(timeout=WAIT_MS)
    page.get_by_role("button", name="Health Check", exact=True).click()
    round_trip = page.get_by_text("Health round trip (ms)").first.locator("..")
    round_trip.wait_for(timeout=WAIT_MS)
    # The header's latency tile: its mean and count of the page's own calls move with every
    # refresh. Watched once it shows the first refresh's calls.
    tile = page.locator('[data-tile="Avg Latency (ms)"]').first
    page.locator(
        '[data-tile="Avg Latency (ms)"]', has_text=re.compile(r"[1-9]\d* calls")
    ).first.wait_for(timeout=WAIT_MS)

    with httpx.Client(base_url=stack.api.url, timeout=60) as client:
        # Given slow_upstream switched on and an uncached price fetch waiting on Tiingo
        switched = client.post(
            "/api/v2/ops/chaos",
            headers=operator,
            json={"scenario": "slow_upstream", "enabled": True, "duration_s": 120},
        )
        assert switched.status_code == 200, switched.text
        session = sign_in(client)
        fetched: dict[str, Any] = {}

        def slow_fetch() -> None:
            started = time.monotonic()
            with httpx.Client(base_url=stack.api.url, timeout=60) as own:  # type: ignore[union-attr]
                answer = own.get("/api/v2/tickers/NVDA/ohlc?range=6M", headers=session)
            fetched.update(status=answer.status_code, waited_s=time.monotonic() - started)

        holder = threading.Thread(target=slow_fetch, name="slow-fetch", daemon=True)
        holder.start()
        deadline = time.monotonic() + 5
        while not any(e["busy"] for e in stack.api.environments()):
            assert time.monotonic() < deadline, "the price fetch never reached an environment"
            time.sleep(0.05)

        # When the page is read several times over ~8 s while the fetch is pending
        tiles, round_trips = [tile.inner_text()], [round_trip.inner_text()]
        watched_from = time.monotonic()
        while time.monotonic() - watched_from < WATCHED_S:
            time.sleep(0.25)
            tiles.append(tile.inner_text())
            round_trips.append(round_trip.inner_text())
        still_pending = holder.is_alive()
        holder.join(timeout=HELD_S + 10)
        client.post(
            "/api/v2/ops/chaos",
            headers=operator,
            json={"scenario": "slow_upstream", "enabled": False},
        ).raise_for_status()

    # Then the fetch was still waiting all along, and the tiles changed at least three times
    assert still_pending, fetched
    assert fetched["status"] == 503 and fetched["waited_s"] >= HELD_S - 0.5, fetched
    assert _changes(tiles) >= 3, tiles
    assert _changes(round_trips) >= 3, round_trips
    content = page.content()
    page.close()
    assert "Traceback" not in content
    assert errors == []
    server_log = stack.options.paths.logs_dir / "workbench.log"
    assert application_tracebacks(server_log.read_text()) == []
