"""Two function instances' limiters on one DynamoDB Local table: a caller's counts are shared,
in both directions and across a window's end, and large count maps survive being split."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from services.resilience.rate_limit import ADDRESS, IDENTITY, RateLimiter
from services.store.rate_windows import DynamoRateWindows

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

pytestmark = pytest.mark.integration

CALLER = [(ADDRESS, "a:10.0.0.1"), (IDENTITY, "t:caller")]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def instance(table: Table, clock: Clock, name: str) -> RateLimiter:
    return RateLimiter(
        {IDENTITY: 40, ADDRESS: 600},
        window_s=10,
        shared=DynamoRateWindows(table),
        clock=clock,
        instance=name,
    )


def admitted(limiter: RateLimiter, n: int) -> int:
    return sum(limiter.check(CALLER) is None for _ in range(n))


def test_a_callers_counts_are_shared_between_two_instances(fresh_table: Table) -> None:
    # Given two instances on one table, and a caller who spends 30 of 40 on the first
    clock = Clock(1_700_000_005.0)
    first, second = instance(fresh_table, clock, "first"), instance(fresh_table, clock, "second")
    assert admitted(first, 30) == 30
    clock.now += 1.0
    first.sync()  # what its next request would do, an interval on
    # When the caller moves to the second instance
    admitted_there = admitted(second, 40)
    # Then it admits only what is left of the caller's 40, not another 40
    assert admitted_there == 40 - 30
    # And the first instance, at its next exchange, learns of the second's 10
    clock.now += 1.0
    assert admitted(first, 1) == 0
    # Both instances' items are in the window's partition, one each
    items = fresh_table.scan(ConsistentRead=True)["Items"]
    assert sorted(i["SK"] for i in items if i["PK"] == "RATEWINDOW#1700000000") == [
        "first#0",
        "second#0",
    ]


def test_counts_made_late_in_a_window_still_count_early_in_the_next(fresh_table: Table) -> None:
    clock = Clock(1_700_000_009.0)
    first, second = instance(fresh_table, clock, "first"), instance(fresh_table, clock, "second")
    assert admitted(first, 36) == 36
    clock.now = 1_700_000_010.1
    first.sync()  # publishes the ended window's final counts
    # 36 weigh 36 * 0.98 = 35.3 one-hundredth of a second into the new window: 4 more fit
    clock.now = 1_700_000_010.2
    assert admitted(second, 10) == 4


def test_a_count_map_split_into_parts_is_read_whole(fresh_table: Table) -> None:
    store = DynamoRateWindows(fresh_table, max_keys_per_item=3)
    counts = {f"t:{i}": i + 1 for i in range(10)}
    store.publish(1000, "big", counts, expires_at=2000)
    store.publish(1000, "other", {"t:0": 5}, expires_at=2000)
    assert store.others(1000, "reader") == {**counts, "t:0": 6}
    assert store.others(1000, "other") == counts
    # Republishing (the map only grows within a window) rewrites every part
    store.publish(1000, "big", {**counts, "t:9": 100, "t:10": 1}, expires_at=2000)
    assert store.others(1000, "other")["t:9"] == 100
    assert store.others(1000, "other")["t:10"] == 1
