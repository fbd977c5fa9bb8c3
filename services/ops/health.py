"""The health check: what `/health` reports and the rule that turns checks into a status.

Rule: `unhealthy` when any critical check fails (DynamoDB: nothing works without the
table); `degraded` when only a non-critical check is degraded; `healthy` otherwise.

Non-critical checks: `circuits` is degraded while any provider's circuit is not closed (open,
or half-open awaiting its trial), `quotas` while any provider's quota is at its critical
level. Either way the service still answers, from what it has stored, so neither makes it
unhealthy; neither can they be read without the table, which the `dynamodb` check covers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
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


def circuits_check(states: Callable[[], Mapping[str, str]]) -> HealthCheck:
    """Degraded while a circuit is not closed; `states` is service -> state."""

    def run() -> CheckResult:
        try:
            found = dict(states())
        except Exception as error:
            return CheckResult("unhealthy", False, {"error": f"circuits: {type(error).__name__}"})
        not_closed = sorted(name for name, state in found.items() if state != "closed")
        status: Status = "degraded" if not_closed else "healthy"
        return CheckResult(status, False, {"states": found, "open": not_closed})

    return run


def quotas_check(levels: Callable[[], Mapping[str, str]]) -> HealthCheck:
    """Degraded while a quota is at its critical level; `levels` is service -> level."""

    def run() -> CheckResult:
        try:
            found = dict(levels())
        except Exception as error:
            return CheckResult("unhealthy", False, {"error": f"quotas: {type(error).__name__}"})
        critical = sorted(name for name, level in found.items() if level == "critical")
        status: Status = "degraded" if critical else "healthy"
        return CheckResult(status, False, {"levels": found, "critical": critical})

    return run


def not_checked(name: str, reason: str) -> HealthCheck:
    """A non-critical check that could not run: unknown is not healthy."""
    return lambda: CheckResult("unhealthy", False, {"error": f"{name}: not checked, {reason}"})


def evaluate(checks: dict[str, HealthCheck]) -> HealthReport:
    results = {name: check() for name, check in checks.items()}
    if any(r.status == "unhealthy" and r.critical for r in results.values()):
        status: Status = "unhealthy"
    elif any(r.status != "healthy" for r in results.values()):
        status = "degraded"
    else:
        status = "healthy"
    return HealthReport(status, results)
