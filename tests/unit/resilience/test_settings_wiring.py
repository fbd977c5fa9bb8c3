"""The resilience numbers come from settings, with the design's values as defaults."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.composition.resilience import breaker_policy, quota_limits, quota_policy, table_guard
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
    # The paid plans' limits, and no own budget on top of them.
    assert quota_limits(settings) == {
        "tiingo": (QuotaLimit(10_000, "hour"), QuotaLimit(100_000, "day")),
        "finnhub": (QuotaLimit(30, "second"), QuotaLimit(300, "minute")),
        "sendgrid": (QuotaLimit(1_500, "day"),),
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
    monkeypatch.setenv("FINNHUB_PAID_PER_MINUTE", "600")

    settings = Settings()

    assert breaker_policy(settings).open_timeout == timedelta(seconds=2)
    assert quota_limits(settings)["finnhub"] == (
        QuotaLimit(30, "second"),
        QuotaLimit(600, "minute"),
        QuotaLimit(30, "hour", name="budget_per_hour"),
    )


def test_the_free_plans_are_the_providers_published_limits_and_a_budget_adds_to_them() -> None:
    settings = Settings(
        tiingo_plan="free",
        finnhub_plan="free",
        sendgrid_plan="free",
        tiingo_quota_limit=5,
        sendgrid_quota_limit=80,
    )

    assert quota_limits(settings) == {
        "tiingo": (
            QuotaLimit(50, "hour"),
            QuotaLimit(1_000, "day"),
            QuotaLimit(500, "month", "symbols"),
            QuotaLimit(5, "month", name="budget_per_month"),
        ),
        "finnhub": (QuotaLimit(30, "second"), QuotaLimit(60, "minute")),
        "sendgrid": (QuotaLimit(100, "day"), QuotaLimit(80, "day", name="budget_per_day")),
    }
    names = [q.quota_name for q in quota_limits(settings)["tiingo"]]
    assert names == [
        "requests_per_hour",
        "requests_per_day",
        "symbols_per_month",
        "budget_per_month",
    ]


def test_a_paid_tiingo_plan_caps_symbols_only_when_told() -> None:
    capped = Settings(tiingo_plan="paid", tiingo_paid_monthly_symbols=2_000)

    assert QuotaLimit(2_000, "month", "symbols") in quota_limits(capped)["tiingo"]
    assert all(q.counts == "requests" for q in quota_limits(Settings())["tiingo"])


def test_a_period_that_is_not_one_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIINGO_QUOTA_PERIOD", "fortnight")

    with pytest.raises(ValueError, match="tiingo_quota_period"):
        Settings()


def test_the_guard_is_built_without_touching_the_table() -> None:
    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the table was used at construction: {name}")

    guard = table_guard(Settings(), Untouchable())  # type: ignore[arg-type]

    assert guard.services == ["tiingo", "finnhub", "sendgrid"]
    assert set(guard.quotas.limits) == {"tiingo", "finnhub", "sendgrid"}
    assert guard.quotas.counters() == 0
