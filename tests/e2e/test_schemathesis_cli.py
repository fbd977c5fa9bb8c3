"""The API as an outside fuzzer sees it: `st run <api>/api/v2/openapi.json --checks all`
(schemathesis' command line, configured by the project's schemathesis.toml) against the
running stack, every phase (examples, coverage, fuzzing, stateful), and not one failure or
error. The configuration signs in anonymously for the `session` bearer, and again whenever a
request answers 401 (the run also signs out); rate limiting is off, as the fuzzer sends
thousands of requests from one address."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.local.stack import LocalStack
from services.settings import Settings
from tests.e2e.api_support import api_stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

# Enough for every phase to reach each operation several times, small enough for the run to
# take about two minutes on two cores.
MAX_EXAMPLES = 150
PHASES = ("Examples", "Coverage", "Fuzzing", "Stateful")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[LocalStack]:
    # The pipeline's emulators answer the price routes; no schedule, so the table holds still.
    with api_stack(
        root,
        tmp_path_factory.mktemp("state"),
        # Rate limits off, and a SendGrid day whose sign-in share thousands of generated
        # sign-in requests cannot spend: a spent share is a documented 503 the fuzzer counts
        # as a server error.
        settings=Settings(rate_limit_enabled=False, sendgrid_paid_daily_limit=10_000_000),
        pipeline=True,
        schedules=False,
    ) as running:
        yield running


def run_schemathesis(
    root: Path, api_url: str, report_dir: Path
) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "--config-file",
        str(root / "schemathesis.toml"),
        "run",
        f"{api_url}/api/v2/openapi.json",
        "--checks",
        "all",
        "--phases",
        ",".join(phase.lower() for phase in PHASES),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
    ]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=840)


def test_schemathesis_finds_no_failure_in_any_phase(
    stack: LocalStack, root: Path, tmp_path: Path
) -> None:
    assert stack.api is not None

    run = run_schemathesis(root, stack.api.url, tmp_path)

    output = run.stdout + run.stderr
    summary = output[output.rfind("SUMMARY") :]
    assert run.returncode == 0, output
    for phase in PHASES:
        assert re.search(rf"✅ {phase}\b", summary), f"{phase} did not pass:\n{output}"
    cases = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert cases is not None and cases.group(1) == cases.group(2), output
    final_line = summary.strip().splitlines()[-1]
    assert "failure" not in final_line and "error" not in final_line, output
