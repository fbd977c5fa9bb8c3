"""The traffic generator against the embedded stack with the API's default rate limits and a
short circuit open timeout: every scenario does what it sets out to show, `all` meets no
unexpected answer, and the command line prints the table and writes the JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.local.stack import LocalStack
from services.settings import Settings
from services.traffic import Options, Target, run_scenario, run_scenarios, run_sync
from services.traffic.target import local_target
from tests.e2e.api_support import news_stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

OPEN_TIMEOUT_S = 2.0
SMALL = Options(users=3, requests=5, warm_requests=5, max_wait_s=60, poll_s=0.2)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[LocalStack]:
    settings = Settings(
        default_watchlist="AAPL,MSFT,NVDA",
        circuit_open_timeout_s=OPEN_TIMEOUT_S,
        http_timeout_s=0.5,
    )
    with news_stack(
        root, tmp_path_factory.mktemp("state"), settings, default_rate_limits=True
    ) as running:
        assert running.pipeline is not None
        running.pipeline.run_ingestion_now()
        yield running


@pytest.fixture(scope="module")
def target(stack: LocalStack) -> Target:
    return local_target(stack.options.paths)


def test_all_scenarios_complete_without_unexpected_answers(target: Target) -> None:
    results = run_sync(run_scenarios(["all"], target, SMALL))

    assert [r.name for r in results] == [
        "basic", "price-sentiment", "cache", "load", "rate-limit", "circuit-breaker", "chaos",
    ]  # fmt: skip
    for result in results:
        assert result.records, result.name
        assert result.unexpected == [], (result.name, result.unexpected)
        assert all(c.passed for c in result.checks), (result.name, result.checks)
    by_name = {r.name: r for r in results}
    assert by_name["basic"].summary.success_pct == 100.0
    assert by_name["price-sentiment"].details["valid_shapes"] == 18
    assert by_name["load"].summary.successes == 3 * (2 + 5)
    assert by_name["rate-limit"].details["rate_limited"] == 10
    assert by_name["rate-limit"].details["admitted"] == 40
    for name in ("circuit-breaker", "chaos"):
        details = by_name[name].details
        assert details["opened"] and details["half_open"] and details["closed_after"], details
        assert by_name[name].summary.circuit_breaker >= 1 or details["services"] == ["finnhub"]


def test_progress_is_reported_for_every_request(target: Target) -> None:
    seen: list[tuple[int, int | None, str]] = []
    result = run_sync(
        run_scenario(
            "load",
            target,
            Options(users=2, requests=3),
            on_progress=lambda p: seen.append((p.done, p.total, p.message)),
        )
    )
    per_request = [done for done, _, _ in seen if done]
    assert per_request[-1] == len(result.records) == 2 * (2 + 3)
    assert sorted(set(per_request)) == list(range(1, len(result.records) + 1))
    assert {total for _, total, _ in seen if total} == {2 * (2 + 3)}
    assert seen[-1][2].startswith("load: done")


@pytest.mark.parametrize("chaos", ["sendgrid_429", "slow_upstream"])
def test_chaos_scenarios_open_and_close_their_circuits(target: Target, chaos: str) -> None:
    result = run_sync(run_scenario("chaos", target, Options(chaos=chaos, max_wait_s=60)))

    assert result.ok, (result.checks, result.unexpected)
    details = result.details
    assert details["opened"] and details["half_open"] and details["closed_after"]
    if chaos == "sendgrid_429":
        # E-mails met the fault (refused, or accepted for a later retry), then one went out
        assert details["emails"] and set(details["emails"]) <= {202, 503}
        assert details["emails"][-1] == 202
    else:
        assert {e["service"] for e in details["timeline"]} == {"tiingo", "finnhub"}
        errors = [i["errors"] for i in details["ingestions"] if i["phase"] == "fault"]
        assert errors and all("tiingo" in e for e in errors)


def test_cli_prints_the_table_and_writes_json(
    stack: LocalStack, target: Target, tmp_path: Path, root: Path
) -> None:
    report = tmp_path / "traffic.json"
    env = {**os.environ, "LOCAL_STATE_DIR": str(stack.options.paths.state_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "services.traffic", "--scenario", "basic", "--json", str(report)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    header, _, row = done.stdout.splitlines()[:3]
    assert header.split()[:2] == ["Scenario", "Requests"] and row.split()[0] == "basic"
    assert "[basic] creating a configuration" in done.stderr
    body = json.loads(report.read_text())
    assert body["ok"] is True and body["target"]["api_url"] == target.api_url
    [basic] = body["scenarios"]
    assert basic["summary"]["requests"] == int(row.split()[1])
    assert basic["summary"]["success_pct"] == 100.0
    assert "operator_token" not in report.read_text()


def test_cli_refuses_a_guarded_scenario_at_a_remote_address(root: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.traffic",
            "--url",
            "http://192.0.2.1",
            "--scenario",
            "chaos",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "loopback" in done.stderr
    assert "Traceback" not in done.stderr
