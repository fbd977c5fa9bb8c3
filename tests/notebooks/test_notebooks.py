"""Every scenario notebook executed by papermill on small parameters against the suite's
stack, asserting the values it recorded; one run starts its own stack in the kernel; and
`pytest --nbval-lax notebooks/` passes as it stands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.local.stack import LocalStack
from services.settings import Settings
from tests.notebooks.conftest import execute

pytestmark = [pytest.mark.notebooks, pytest.mark.timeout(300)]

NOTEBOOKS = {
    "interview_tour", "price_sentiment_overlay", "cache_warmup", "load_test", "rate_limit", "chaos",
}  # fmt: skip


def attached(recorded: dict[str, object], stack: LocalStack) -> None:
    described = recorded["stack"]
    assert isinstance(described, dict) and described["mode"] == "attached"
    assert stack.api is not None and described["api_url"] == stack.api.url


def test_every_scenario_notebook_is_there(root: Path) -> None:
    # Other notebooks may join them; nbval below runs all of them.
    assert {p.stem for p in (root / "notebooks").glob("*.ipynb")} >= NOTEBOOKS


def test_interview_tour(notebook_stack: LocalStack, root: Path, tmp_path: Path) -> None:
    recorded = execute(root, "interview_tour", tmp_path, TICKERS=["AAPL", "MSFT"], RANGE="1W")

    attached(recorded, notebook_stack)
    assert recorded["health_status"] in {"healthy", "degraded"}
    assert recorded["session_status"] == 201 and recorded["configuration_status"] == 201
    # The business rules: one configuration per anonymous session, tickers validated
    assert recorded["second_configuration_status"] == 409
    assert recorded["unknown_ticker_status"] == 400
    assert recorded["sentiment_cache"] == ["miss", "hit"]
    assert recorded["candles"] > 0 and recorded["ingestion_status"] == 200
    assert set(recorded["circuit_states"]) == {"tiingo", "finnhub", "sendgrid"}
    assert recorded["basic_ok"] is True and recorded["basic_success_pct"] == 100.0
    assert recorded["alert_status"] == 201 and recorded["notifications_status"] == 200
    assert recorded["metrics_requests"] > 0
    assert 2.0 <= recorded["dev_monthly_usd"] <= 3.0  # the seed's "about $2.50"
    assert recorded["tour_calls"] >= 15


def test_price_sentiment_overlay(notebook_stack: LocalStack, root: Path, tmp_path: Path) -> None:
    recorded = execute(
        root, "price_sentiment_overlay", tmp_path, TICKERS=["AAPL", "NVDA"], RANGE="1W"
    )

    assert recorded["shapes_checked"] == 4 and recorded["valid_shapes"] == 4
    assert recorded["success_pct"] == 100.0
    assert set(recorded["candles"]) == {"AAPL", "NVDA"} and min(recorded["candles"].values()) > 0
    assert set(recorded["history_points"]) == {"AAPL", "NVDA"}


def test_cache_warmup(notebook_stack: LocalStack, root: Path, tmp_path: Path) -> None:
    recorded = execute(root, "cache_warmup", tmp_path, TICKERS=["MSFT"], WARM_REQUESTS=5)

    assert recorded["first_read_miss"] is True
    assert recorded["warm_faster"] is True
    assert recorded["warm_median_ms"] < recorded["cold_ms"]
    assert recorded["speedup"] > 1


def test_load_test(notebook_stack: LocalStack, root: Path, tmp_path: Path) -> None:
    recorded = execute(root, "load_test", tmp_path, USERS=3, REQUESTS=5)

    # 3 users: each signs in, creates a configuration and sends 5 reads
    assert recorded["requests"] == 3 * (2 + 5)
    assert recorded["success_pct"] == 100.0
    assert recorded["errors"] == 0 and recorded["unexpected"] == 0
    assert recorded["rate_per_s"] > 0 and recorded["p95_ms"] > 0


def test_rate_limit(notebook_stack: LocalStack, root: Path, tmp_path: Path) -> None:
    recorded = execute(root, "rate_limit", tmp_path, BURST=50)

    # The default limit: 40 requests per 10 s per session
    assert recorded["admitted"] == 40 and recorded["rate_limited"] == 10
    assert all(0 < s <= 10 for s in recorded["retry_after_s"])
    assert recorded["after_retry_after"] == 200


@pytest.mark.parametrize("scenario", ["tiingo_500", "sendgrid_429"])
def test_chaos(notebook_stack: LocalStack, root: Path, tmp_path: Path, scenario: str) -> None:
    recorded = execute(root, "chaos", tmp_path, CHAOS_SCENARIO=scenario, MAX_WAIT_S=60.0)

    assert recorded["scenario"] == scenario
    assert recorded["opened"] is True
    assert recorded["half_open"] is True
    assert recorded["closed"] is True
    assert 0 < recorded["recovery_s"] < 60
    assert recorded["unexpected"] == 0
    if scenario == "tiingo_500":
        # Price requests refused at once while the circuit was open
        assert recorded["circuit_breaker_responses"] >= 1


def test_a_notebook_starts_its_own_stack_when_none_runs(root: Path, tmp_path: Path) -> None:
    # Given no stack described where the kernel looks
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCAL_STATE_DIR", str(tmp_path / "nothing-here"))
        recorded = execute(root, "rate_limit", tmp_path, STACK="auto", BURST=45)

    assert recorded["stack"]["mode"] == "embedded"
    # Its API runs one execution environment per core; between two exchanges of counts an
    # environment does not see the others' newest requests, so a burst spread over N of them
    # can get up to (N - 1) x the sync fraction of the limit more (the rate limiter's bound).
    settings = Settings()
    extra = (settings.local_api_workers - 1) * settings.rate_limit_sync_fraction * 40
    assert 40 <= recorded["admitted"] <= 40 + extra
    assert recorded["admitted"] + recorded["rate_limited"] == 45


@pytest.mark.timeout(600)
def test_nbval_lax_passes_on_the_notebooks_as_they_stand(
    notebook_stack: LocalStack, root: Path
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "notebooks/",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=root,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=580,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert (
        " passed" in done.stdout.splitlines()[-1] and "failed" not in done.stdout.splitlines()[-1]
    )
