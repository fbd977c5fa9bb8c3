"""The health check: what `/health` reports and the rule that turns checks into a status.

Rule: `unhealthy` when any critical check fails (DynamoDB: nothing works without the
table); `degraded` when only a non-critical check is degraded; `healthy` otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["healthy", "degraded", "unhealthy"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    status: Status
    critical: bool
    details: dict[str, Any] = field(default_factory=dict)


HealthCheck = Callable[[], CheckResult]


@dataclass(frozen=True, slots=True)
class HealthReport:
    status: Status
    checks: dict[str, CheckResult]


def timed_check(name: str, probe: Callable[[], None], *, critical: bool) -> HealthCheck:
    """A check that runs `probe` and reports its latency, or its error as `unhealthy`."""

    def run() -> CheckResult:
        started = time.perf_counter()
        try:
            probe()
        except Exception as error:  # any failure of a dependency is a finding, not a crash
            return CheckResult(
                "unhealthy", critical, {"error": f"{name}: {type(error).__name__}: {error}"}
            )
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        return CheckResult("healthy", critical, {"latency_ms": latency_ms})

    return run


def evaluate(checks: dict[str, HealthCheck]) -> HealthReport:
    results = {name: check() for name, check in checks.items()}
    if any(r.status == "unhealthy" and r.critical for r in results.values()):
        status: Status = "unhealthy"
    elif any(r.status != "healthy" for r in results.values()):
        status = "degraded"
    else:
        status = "healthy"
    return HealthReport(status, results)
