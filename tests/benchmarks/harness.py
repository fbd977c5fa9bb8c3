"""A small benchmark harness: registered benchmarks, one run, one machine-readable report.

Budgets are compared inside one run (ratios, or a figure against its budget), and the
report records the machine, so numbers from different machines are never mixed up.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass
class Measurement:
    """One figure of a benchmark, with its unit and, when there is one, its budget."""

    name: str
    value: float
    unit: str
    budget: float | None = None
    higher_is_better: bool = False

    @property
    def within_budget(self) -> bool | None:
        if self.budget is None:
            return None
        return self.value >= self.budget if self.higher_is_better else self.value <= self.budget


@dataclass
class BenchmarkResult:
    benchmark: str
    description: str
    measurements: list[Measurement] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: float, unit: str, **kwargs: Any) -> None:
        self.measurements.append(Measurement(name, round(value, 4), unit, **kwargs))


@dataclass(frozen=True)
class Context:
    """What every benchmark receives: the project root and the size of the run."""

    root: Path
    quick: bool

    def n(self, full: int, quick: int) -> int:
        return quick if self.quick else full


Benchmark = Callable[[Context], BenchmarkResult]
REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str) -> Callable[[Benchmark], Benchmark]:
    def register(function: Benchmark) -> Benchmark:
        REGISTRY[name] = function
        return function

    return register


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: every value reported was observed)."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def latency_summary(result: BenchmarkResult, prefix: str, samples_s: list[float]) -> None:
    """p50, p99 and mean in milliseconds from per-call durations in seconds."""
    ms = [s * 1000 for s in samples_s]
    result.add(f"{prefix}_p50", percentile(ms, 50), "ms")
    result.add(f"{prefix}_p99", percentile(ms, 99), "ms")
    result.add(f"{prefix}_mean", statistics.fmean(ms), "ms")
    result.details[f"{prefix}_samples"] = len(ms)


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    box: list[float] = []
    started = time.perf_counter()
    yield box
    box.append(time.perf_counter() - started)


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


def write_report(results: list[BenchmarkResult], directory: Path, quick: bool) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    report = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "quick": quick,
        "machine": machine(),
        "benchmarks": {
            r.benchmark: {
                "description": r.description,
                "measurements": {
                    m.name: {
                        "value": m.value,
                        "unit": m.unit,
                        "budget": m.budget,
                        "within_budget": m.within_budget,
                    }
                    for m in r.measurements
                },
                "details": r.details,
            }
            for r in results
        },
    }
    path = directory / "benchmarks.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    (directory / "benchmarks.md").write_text(render_table(results) + "\n")
    return path


def render_table(results: list[BenchmarkResult]) -> str:
    lines = [
        "| benchmark | measurement | value | unit | budget | ok |",
        "|---|---|---:|---|---:|---|",
    ]
    for result in results:
        for m in result.measurements:
            ok = {None: "", True: "yes", False: "NO"}[m.within_budget]
            budget = (
                "" if m.budget is None else f"{'>=' if m.higher_is_better else '<='} {m.budget}"
            )
            lines.append(
                f"| {result.benchmark} | {m.name} | {m.value:g} | {m.unit} | {budget} | {ok} |"
            )
    return "\n".join(lines)
