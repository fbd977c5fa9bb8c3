"""The health rule: critical failure -> unhealthy, any other problem -> degraded."""

from __future__ import annotations

import pytest

from services.ops.health import CheckResult, evaluate, timed_check

pytestmark = pytest.mark.unit


def ok() -> None:
    return None


def broken() -> None:
    raise ConnectionError("refused")


def test_all_checks_pass_is_healthy_with_latency() -> None:
    report = evaluate({"dynamodb": timed_check("dynamodb", ok, critical=True)})
    assert report.status == "healthy"
    assert report.checks["dynamodb"].details["latency_ms"] >= 0


def test_critical_failure_is_unhealthy_and_names_the_error_kind_only() -> None:
    report = evaluate({"dynamodb": timed_check("dynamodb", broken, critical=True)})
    assert report.status == "unhealthy"
    # The answer names the kind of error; its text is kept apart, for the log and operator.
    assert report.checks["dynamodb"].details["error"] == "dynamodb: ConnectionError"
    assert report.checks["dynamodb"].diagnostic == "ConnectionError: refused"


def test_non_critical_problem_is_degraded() -> None:
    report = evaluate(
        {
            "dynamodb": timed_check("dynamodb", ok, critical=True),
            "circuits": lambda: CheckResult("degraded", False, {"open": ["tiingo"]}),
        }
    )
    assert report.status == "degraded"
