"""The cost model: the seed's dev estimate from its assumptions, and how cost grows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.costs import (
    SEED_DEV,
    SEED_DEV_ESTIMATE_USD,
    US_EAST_1,
    FreeTier,
    UsageAssumptions,
    cost_grid,
    monthly_cost,
    monthly_invocations,
)
from services.costs import prices as price_list

pytestmark = pytest.mark.unit


def cost_of(assumptions: UsageAssumptions, service: str, item: str, **kwargs: object) -> float:
    breakdown = monthly_cost(assumptions, **kwargs)  # type: ignore[arg-type]
    (found,) = [x for x in breakdown.lines if x.service == service and x.item == item]
    return found.cost_usd


def test_seed_dev_assumptions_give_about_the_seed_estimate() -> None:
    # Given the seed's dev environment, When its month is priced, Then it is about $2.50.
    total = monthly_cost(SEED_DEV).total_usd
    assert total == pytest.approx(SEED_DEV_ESTIMATE_USD, rel=0.1)


def test_seed_dev_month_is_fixed_costs_with_usage_inside_the_free_tier() -> None:
    breakdown = monthly_cost(SEED_DEV)
    by_service = breakdown.by_service()
    assert by_service["Lambda"] == 0.0 and by_service["SNS"] == 0.0
    assert by_service["EventBridge"] == 0.0 and by_service["X-Ray"] == 0.0
    assert cost_of(SEED_DEV, "Secrets Manager", "secrets") == pytest.approx(3 * 0.40)
    assert cost_of(SEED_DEV, "CloudWatch", "custom metrics") == pytest.approx((14 - 10) * 0.30)
    assert 0.0 < by_service["DynamoDB"] < 0.5


def test_schedules_set_the_scheduled_invocations() -> None:
    invocations = monthly_invocations(SEED_DEV)
    assert invocations["ingestion"] == 30 * 24 * 12  # every 5 minutes
    assert invocations["metrics"] == 30 * 24 * 60  # every minute
    assert invocations["dashboard"] == 10 * 50 * 30
    hourly = monthly_invocations(replace(SEED_DEV, ingestion_interval_minutes=60))
    assert hourly["ingestion"] == 30 * 24


def test_lines_are_quantities_times_published_prices() -> None:
    breakdown = monthly_cost(SEED_DEV, free_tier=FreeTier.none())
    lines = {(x.service, x.item): x for x in breakdown.lines}
    writes = lines[("DynamoDB", "write request units")]
    assert writes.cost_usd == pytest.approx(writes.quantity / 1e6 * 0.625)
    requests = lines[("Lambda", "requests")]
    assert requests.cost_usd == pytest.approx(requests.quantity / 1e6 * 0.20)
    duration = lines[("Lambda", "duration")]
    assert duration.cost_usd == pytest.approx(duration.quantity * 0.0000166667)
    assert US_EAST_1.dynamodb_per_million_read_units == price_list.DYNAMODB_PER_MILLION_READ_UNITS


def test_without_the_free_tier_the_month_costs_more() -> None:
    assert monthly_cost(SEED_DEV, free_tier=FreeTier.none()).total_usd > (
        monthly_cost(SEED_DEV).total_usd + 1.0
    )


def test_point_in_time_recovery_and_backups_add_to_the_bill() -> None:
    protected = replace(SEED_DEV, point_in_time_recovery=True, daily_backups=True)
    assert cost_of(protected, "DynamoDB", "point-in-time recovery") == pytest.approx(0.2 * 0.20)
    assert cost_of(protected, "DynamoDB", "daily backups") == pytest.approx(0.2 * 35 * 0.10)
    assert monthly_cost(protected).total_usd > monthly_cost(SEED_DEV).total_usd


def test_cost_grows_with_users_and_with_tickers() -> None:
    users, tickers = [10, 100, 1_000, 10_000], [8, 50, 200]
    grid = {(p.users, p.tickers): p.total_usd for p in cost_grid(SEED_DEV, users, tickers)}
    assert len(grid) == len(users) * len(tickers)
    for t in tickers:
        column = [grid[(u, t)] for u in users]
        assert column == sorted(column) and column[-1] > 10 * column[0]
    for u in users:
        row = [grid[(u, t)] for t in tickers]
        assert row == sorted(row) and row[-1] > row[0]


def test_more_memory_costs_more_duration() -> None:
    none = FreeTier.none()
    small = cost_of(SEED_DEV, "Lambda", "duration", free_tier=none)
    large = cost_of(replace(SEED_DEV, lambda_memory_mb=512), "Lambda", "duration", free_tier=none)
    assert large == pytest.approx(4 * small)
