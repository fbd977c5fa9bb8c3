"""The resilience numbers come from settings, with the design's values as defaults."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.composition import breaker_policy, quota_limits, quota_policy, resilient_guard
from services.resilience.quota import QuotaLimit
from services.settings import Settings

pytestmark = pytest.mark.unit


def test_defaults_are_the_design_numbers() -> None:
    settings = Settings()

    breaker = breaker_policy(settings)
    quotas = quota_policy(settings)

    assert breaker.failure_threshold == 5
    assert breaker.failure_window == breaker.open_timeout == timedelta(seconds=60)
    assert breaker.cache_ttl == timedelta(seconds=60)
    assert quota_limits(settings) == {
        "tiingo": QuotaLimit(500, "month"),
        "finnhub": QuotaLimit(60, "minute"),
        "sendgrid": QuotaLimit(100, "day"),
    }
    assert (quotas.warning_fraction, quotas.critical_fraction, quotas.reserve_fraction) == (
        0.5,
        0.8,
        0.1,
    )
    assert quotas.sync_interval == timedelta(seconds=60)
    assert settings.circuit_transition_ttl_s == 7 * 24 * 3600


def test_the_environment_changes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCUIT_OPEN_TIMEOUT_S", "2")
    monkeypatch.setenv("FINNHUB_QUOTA_LIMIT", "30")
    monkeypatch.setenv("FINNHUB_QUOTA_PERIOD", "hour")

    settings = Settings()

    assert breaker_policy(settings).open_timeout == timedelta(seconds=2)
    assert quota_limits(settings)["finnhub"] == QuotaLimit(30, "hour")


def test_a_period_that_is_not_one_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIINGO_QUOTA_PERIOD", "fortnight")

    with pytest.raises(ValueError, match="tiingo_quota_period"):
        Settings()


def test_the_guard_is_built_without_touching_the_table() -> None:
    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the table was used at construction: {name}")

    guard = resilient_guard(Settings(), Untouchable())  # type: ignore[arg-type]

    assert guard.services == ["tiingo", "finnhub", "sendgrid"]
    assert set(guard.quotas.limits) == {"tiingo", "finnhub", "sendgrid"}
