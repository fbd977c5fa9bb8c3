"""checkov over the Terraform: no failed check, and every skipped one says why inline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure.hcl import TERRAFORM

pytestmark = pytest.mark.infrastructure

NO_CHECKOV = (
    "checkov is not installed: `make checkov-venv` installs it into .venv-checkov "
    "(its own venv: checkov pins dependencies the project's venv cannot share)"
)


@pytest.fixture(scope="module")
def checkov_report(root: Path) -> dict[str, Any]:
    binary = root / ".venv-checkov" / "bin" / "checkov"
    found = str(binary) if binary.exists() else shutil.which("checkov")
    if found is None:
        pytest.skip(NO_CHECKOV)
    # Offline: no guideline download, no call to a platform.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    result = subprocess.run(
        [
            found,
            "--directory",
            str(root / TERRAFORM),
            "--framework",
            "terraform",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    # checkov exits 1 when a check fails; the report says which, asserted below.
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert isinstance(report, dict), "one framework, one report"
    return report


def test_checkov_parses_every_file_and_finds_the_resources(checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    assert summary["parsing_errors"] == 0
    # 8 modules instantiated by 3 environments: dozens of resources, not an empty scan.
    assert summary["resource_count"] >= 40
    assert summary["passed"] > 0


def test_checkov_reports_no_failed_check(checkov_report: dict[str, Any]) -> None:
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})"
        for c in checkov_report["results"].get("failed_checks", [])
    ]
    assert failed == []


def test_every_skipped_check_gives_its_reason(checkov_report: dict[str, Any]) -> None:
    skipped = checkov_report["results"].get("skipped_checks", [])
    unexplained = [
        f"{c['check_id']} {c['resource']}"
        for c in skipped
        if len((c.get("check_result") or {}).get("suppress_comment", "").strip()) < 20
    ]
    assert skipped and unexplained == []
