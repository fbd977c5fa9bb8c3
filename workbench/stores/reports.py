"""The latest results of the test suites and benchmarks, from the reports their runs write.

`make unit`, `make e2e`, ... write `reports/junit-<suite>.xml` (`make test` writes
`junit-all.xml` with every suite in it) and `make bench` writes `reports/benchmarks.json`.
Test cases are grouped by suite from their module (`tests.<suite>.…`); a suite's figures
come from the newest report that ran it. Nothing is counted that no run wrote.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import param


def _suite_of(classname: str) -> str:
    parts = classname.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else "other"


def read_junit(path: Path) -> dict[str, dict[str, Any]]:
    """Per suite: tests, passed, failures, errors, skipped, seconds, when and which file."""
    # Written by this checkout's own test runs, not by anyone else.
    root = ElementTree.parse(path).getroot()  # noqa: S314
    written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    suites: dict[str, dict[str, Any]] = {}
    for testsuite in root.iter("testsuite"):
        ran_at = testsuite.get("timestamp") or written.isoformat()
        for case in testsuite.iter("testcase"):
            suite = _suite_of(case.get("classname", ""))
            entry = suites.setdefault(
                suite,
                {
                    "tests": 0, "passed": 0, "failures": 0, "errors": 0, "skipped": 0,
                    "seconds": 0.0, "ran_at": ran_at, "report": path.name, "failed": [],
                },
            )  # fmt: skip
            entry["tests"] += 1
            entry["seconds"] += float(case.get("time") or 0)
            outcome = next(
                (c.tag for c in case if c.tag in ("failure", "error", "skipped")), "passed"
            )
            key = {"failure": "failures", "error": "errors"}.get(outcome, outcome)
            entry[key] += 1
            if outcome in ("failure", "error"):
                entry["failed"].append(f"{case.get('classname')}::{case.get('name')}")
    for entry in suites.values():
        entry["seconds"] = round(entry["seconds"], 2)
    return suites


class ReportsStore(param.Parameterized):
    directory = param.Path(default=None, allow_None=True, check_exists=False)
    suites = param.Dict(default={}, doc="suite -> its latest figures")
    benchmarks = param.Dict(default={}, doc="reports/benchmarks.json as written")
    problems = param.List(default=[], doc="reports that could not be read")
    refreshed = param.Integer(default=0)

    def __init__(self, directory: Path, **params: Any) -> None:
        super().__init__(**params)
        self.directory = str(directory)

    @property
    def tests_passed(self) -> int | None:
        """Passing tests over every suite's latest run, or None when no run wrote a report."""
        if not self.suites:
            return None
        return sum(int(s["passed"]) for s in self.suites.values())

    async def refresh(self) -> None:
        self.load()

    def load(self) -> None:
        folder = Path(self.directory or "")
        suites: dict[str, dict[str, Any]] = {}
        problems: list[str] = []
        reports = sorted(folder.glob("junit-*.xml"), key=lambda p: p.stat().st_mtime)
        for report in reports:  # oldest first: a newer run of a suite replaces it
            try:
                suites.update(read_junit(report))
            except (OSError, ElementTree.ParseError) as error:
                problems.append(f"{report.name}: {error}")
        benchmarks: dict[str, Any] = {}
        bench = folder / "benchmarks.json"
        if bench.exists():
            try:
                loaded = json.loads(bench.read_text())
                benchmarks = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError) as error:
                problems.append(f"{bench.name}: {error}")
        self.param.update(
            suites=dict(sorted(suites.items())),
            benchmarks=benchmarks,
            problems=problems,
            refreshed=self.refreshed + 1,
        )
