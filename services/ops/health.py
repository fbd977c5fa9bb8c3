"""The health check: what `/health` reports and the rule that turns checks into a status.

Rule: `unhealthy` when any critical check fails (DynamoDB: nothing works without the
table); `degraded` when only a non-critical check is degraded; `healthy` otherwise.

Non-critical checks: `circuits` is degraded while any provider's circuit is not closed (open,
or half-open awaiting its trial), `quotas` while any provider's quota is at its critical
level. Either way the service still answers, from what it has stored, so neither makes it
unhealthy; neither can they be read without the table, which the `dynamodb` check covers.
`plans` lists the provider endpoints not called (`not_entitled`) with the reason, degraded
only when a provider refused one the configured plan includes.

`/health` is open to anyone, so a failed check says only which kind of error it met (its
class, e.g. `dynamodb: EndpointConnectionError`): an exception's text can name hosts, tables,
accounts or request ids. The text itself is kept as the result's `diagnostic`, for the log
and for the operator.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from services.store.entitlements import Refusal

Status = Literal["healthy", "degraded", "unhealthy"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    status: Status
    critical: bool
    details: dict[str, Any] = field(default_factory=dict)
    # What went wrong in full (the exception's text): never shown to an anonymous caller.
    diagnostic: str | None = None


HealthCheck = Callable[[], CheckResult]


@dataclass(frozen=True, slots=True)
class HealthReport:
    status: Status
    checks: dict[str, CheckResult]


def failure_result(name: str, error: Exception, *, critical: bool) -> CheckResult:
    """A check that met `error`: `unhealthy`, naming only the error's class (its text is the
    diagnostic)."""
    return CheckResult(
        "unhealthy",
        critical,
        {"error": f"{name}: {type(error).__name__}"},
        diagnostic=f"{type(error).__name__}: {error}",
    )


def timed_check(name: str, probe: Callable[[], None], *, critical: bool) -> HealthCheck:
    """A check that runs `probe` and reports its latency, or its error as `unhealthy`."""

    def run() -> CheckResult:
        started = time.perf_counter()
        try:
            probe()
        except Exception as error:  # any failure of a dependency is a finding, not a crash
            return failure_result(name, error, critical=critical)
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        return CheckResult("healthy", critical, {"latency_ms": latency_ms})

    return run


def circuits_check(states: Callable[[], Mapping[str, str]]) -> HealthCheck:
    """Degraded while a circuit is not closed; `states` is service -> state."""

    def run() -> CheckResult:
        try:
            found = dict(states())
        except Exception as error:
            return failure_result("circuits", error, critical=False)
        not_closed = sorted(name for name, state in found.items() if state != "closed")
        status: Status = "degraded" if not_closed else "healthy"
        return CheckResult(status, False, {"states": found, "open": not_closed})

    return run


_LEVEL_RANK = {"ok": 0, "warning": 1, "critical": 2}


def quotas_check(levels: Callable[[], Mapping[str, Mapping[str, str]]]) -> HealthCheck:
    """Degraded while a quota is at its critical level; `levels` is service -> quota name
    -> level. Details: every quota's level (`limits`), each service's highest (`levels`),
    the services (`critical`) and the quotas (`critical_limits`) at the critical level."""

    def run() -> CheckResult:
        try:
            found = {service: dict(quotas) for service, quotas in levels().items()}
        except Exception as error:
            return failure_result("quotas", error, critical=False)
        highest = {
            service: max(quotas.values(), key=lambda level: _LEVEL_RANK.get(level, 0))
            for service, quotas in found.items()
            if quotas
        }
        critical = sorted(name for name, level in highest.items() if level == "critical")
        critical_limits = sorted(
            f"{service}:{name}"
            for service, quotas in found.items()
            for name, level in quotas.items()
            if level == "critical"
        )
        status: Status = "degraded" if critical else "healthy"
        details = {
            "levels": highest,
            "critical": critical,
            "limits": found,
            "critical_limits": critical_limits,
        }
        return CheckResult(status, False, details)

    return run


def entitlements_check(refusals: Callable[[], Sequence[Refusal]]) -> HealthCheck:
    """The endpoints not called, with why. One the configured plan excludes is by design
    (healthy); one a provider refused although the plan includes it is degraded: the key's
    plan is smaller than configured, and a source is missing until someone acts."""

    def run() -> CheckResult:
        try:
            found = list(refusals())
        except Exception as error:
            return failure_result("plans", error, critical=False)
        listed = [
            {"provider": r.provider, "endpoint": r.endpoint, "reason": r.reason, "by": r.by}
            for r in found
        ]
        status: Status = "degraded" if any(r.by == "provider" for r in found) else "healthy"
        return CheckResult(status, False, {"not_entitled": listed})

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
