"""History on first start: a new stack backfills the emulated world's past news through the
real pipeline, reports it under `backfill` in `/ops/pipeline`, and a second start on the same
persistent table does not repeat it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.local.paths import LocalPaths
from services.local.stack import LocalStack, StackOptions
from services.settings import Settings
from tests.e2e.api_support import operator_headers, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

DAYS = 10
WATCHLIST = "AAPL,JPM"


def start(root: Path, state: Path, lines: list[str]) -> LocalStack:
    settings = Settings(
        default_watchlist=WATCHLIST,
        local_backfill_days=DAYS,
        local_backfill_window_days=4,
        # Schedules on, as `python -m services.local up` runs them; the cycles are rare.
        ingestion_interval_s=3600,
        metrics_interval_s=3600,
        digest_interval_s=3600,
        notification_interval_s=3600,
    )
    options = StackOptions(
        paths=LocalPaths(root=root, state_dir_override=state),
        settings=settings,
        api_port=0,
        dynamodb_port=0,
        in_memory=False,
        api_workers=1,
        backfill=True,
        backfill_progress=lines.append,
    )
    return LocalStack(options).start()


def backfill_of(stack: LocalStack) -> dict[str, Any]:
    assert stack.api is not None
    response = httpx.get(
        f"{stack.api.url}/api/v2/ops/pipeline", headers=operator_headers(stack), timeout=30
    )
    assert response.status_code == 200, response.text
    assert "status_counts" in response.json() and "stages" in response.json()
    found: dict[str, Any] = response.json()["backfill"]
    return found


def wait_done(stack: LocalStack, timeout_s: float = 300.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = backfill_of(stack)
        if state and state["status"] not in ("pending", "running"):
            return state
        time.sleep(0.5)
    raise AssertionError(f"the backfill did not finish: {backfill_of(stack)}")


def test_a_new_stack_backfills_history_once(tmp_path: Path, root: Path) -> None:
    state_dir = tmp_path / "state"
    lines: list[str] = []
    # Given a new persistent stack with schedules on
    stack = start(root, state_dir, lines)
    try:
        # When its backfill finishes
        done = wait_done(stack)
        # Then the API reports it done, with the articles of the days ingested and analyzed
        assert done["status"] == "done", done
        assert (done["days_done"], done["days_total"]) == (DAYS, DAYS)
        assert done["articles_ingested"] > 2 * DAYS
        assert done["articles_analyzed"] == done["articles_ingested"]
        assert done["seconds"] > 0 and done["finished_at"]
        assert any(line.startswith("backfill: 4/10 days") for line in lines), lines
        assert lines[-1].startswith(f"backfill: {DAYS} days backfilled in ")
        # And a watchlist ticker's sentiment history spans the days
        assert stack.api is not None
        with httpx.Client(base_url=stack.api.url, timeout=30) as client:
            response = client.get(
                "/api/v2/tickers/AAPL/sentiment/history",
                params={"range": "1M", "source": "our_model"},
                headers=sign_in(client),
            )
        assert response.status_code == 200, response.text
        days = {point["date"][:10] for point in response.json()["history"]}
        assert len(days) >= DAYS // 2, sorted(days)
    finally:
        stack.stop()
    # When the stack starts again on the same table
    again: list[str] = []
    stack = start(root, state_dir, again)
    try:
        # Then the finished backfill is not repeated
        time.sleep(1.0)
        assert backfill_of(stack) == done
        assert stack.pipeline is not None and stack.pipeline.backfill is not None
        assert stack.pipeline.backfill.state == stack.pipeline.backfill.repository.get()
        assert again == []
    finally:
        stack.stop()
