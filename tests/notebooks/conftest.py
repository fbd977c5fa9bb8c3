"""One embedded stack for the notebook suite (default rate limits, a 2 s circuit open
timeout), described in a state directory of its own that `LOCAL_STATE_DIR` points the
notebooks' kernels at, so `STACK = "auto"` attaches to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import papermill
import pytest

from services.local.stack import LocalStack
from services.settings import Settings
from services.traffic.notebook import read_records
from services.traffic.notebook_report import render_html
from tests.e2e.api_support import api_stack

OPEN_TIMEOUT_S = 2.0
FOUR_DAYS_S = 4 * 24 * 3600


@pytest.fixture(scope="session")
def shared_notebook_stack(
    tmp_path_factory: pytest.TempPathFactory, root: Path
) -> Iterator[LocalStack]:
    settings = Settings(
        default_watchlist="AAPL,MSFT,NVDA",
        circuit_open_timeout_s=OPEN_TIMEOUT_S,
        http_timeout_s=0.5,
        # Four days of news: on any weekday that holds trading days with a price bar (one
        # day of news on a Sunday is weekend news, which no bar of the month can pair with).
        ingestion_lookback_s=FOUR_DAYS_S,
    )
    state = tmp_path_factory.mktemp("notebook-stack")
    with api_stack(
        root, state, settings=settings, pipeline=True, schedules=False, default_rate_limits=True
    ) as running:
        assert running.pipeline is not None
        running.pipeline.run_ingestion_now()
        yield running


@pytest.fixture
def notebook_stack(
    shared_notebook_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> LocalStack:
    """The suite's stack, found by the kernels a test starts (only for that test: the
    variable must not reach the suites that run after this one)."""
    monkeypatch.setenv("LOCAL_STATE_DIR", str(shared_notebook_stack.options.paths.state_dir))
    return shared_notebook_stack


def execute(root: Path, name: str, out_dir: Path, **parameters: Any) -> dict[str, Any]:
    """Run `notebooks/<name>.ipynb` with papermill and return what it recorded."""
    output = out_dir / f"{name}.ipynb"
    papermill.execute_notebook(
        str(root / "notebooks" / f"{name}.ipynb"),
        str(output),
        parameters=parameters,
        cwd=str(root / "notebooks"),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
    )
    # Its report must open offline: rendering refuses a page that would fetch anything.
    render_html(output)
    return read_records(output)
