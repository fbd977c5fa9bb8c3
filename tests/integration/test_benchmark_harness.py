"""`make bench` writes its machine-readable report (a quick run of the real benchmarks)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.benchmarks.harness import percentile

pytestmark = pytest.mark.integration


def test_percentile_is_nearest_rank() -> None:
    samples = [float(v) for v in range(1, 101)]
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 99) == 99.0
    assert percentile([3.0], 99) == 3.0


def test_quick_bench_run_writes_every_first_entry(root, tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks", "--quick", "--out", str(tmp_path)],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "benchmarks.json").read_text())
    benchmarks = report["benchmarks"]
    assert benchmarks["dynamodb_local_startup"]["measurements"]["startup_mean"]["value"] > 0
    for name in ("get_item_p50", "get_item_p99", "gsi_query_p50", "gsi_query_p99"):
        assert benchmarks["store_latency"]["measurements"][name]["unit"] == "ms"
    assert benchmarks["health_endpoint"]["measurements"]["health_p99"]["value"] > 0
    assert report["machine"]["cpus"] >= 1
    assert "| health_endpoint | health_p50 |" in (tmp_path / "benchmarks.md").read_text()
