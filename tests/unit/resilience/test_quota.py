"""The quota tracker: periods in UTC, levels, the reserve, batched sync and near-limit adds,
on the in-memory store with a clock the tests move. Several trackers on one store stand for
several function instances."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from services.adapters.errors import ProviderError
from services.resilience.quota import (
    QuotaExhaustedError,
    QuotaLimit,
    QuotaPolicy,
    QuotaTracker,
    period_of,
)
from services.store.memory import InMemoryQuotaStore
from tests.unit.resilience.support import START, Clock

pytestmark = pytest.mark.unit

LIMITS = {
    "tiingo": QuotaLimit(500, "month"),
    "finnhub": QuotaLimit(60, "minute"),
    "sendgrid": QuotaLimit(100, "day"),
}


class CountingStore(InMemoryQuotaStore):
    def __init__(self) -> None:
        super().__init__()
        self.adds: list[int] = []
        self.conditional = 0
        self.reads = 0

    def add(self, service, period, amount, *, now, expires_at):  # type: ignore[no-untyped-def]
        self.adds.append(amount)
        return super().add(service, period, amount, now=now, expires_at=expires_at)

    def add_within(self, service, period, amount, *, cap, now, expires_at):  # type: ignore[no-untyped-def]
        self.conditional += 1
        return super().add_within(service, period, amount, cap=cap, now=now, expires_at=expires_at)

    def get(self, service: str, period: str) -> int:
        self.reads += 1
        return super().get(service, period)


def tracker(store: InMemoryQuotaStore, clock: Clock, **policy: object) -> QuotaTracker:
    return QuotaTracker(LIMITS, store, clock, QuotaPolicy(**policy))  # type: ignore[arg-type]


def spend(quotas: QuotaTracker, service: str, calls: int, *, priority: bool = False) -> None:
    for _ in range(calls):
        quotas.acquire(service, priority=priority)


# --- periods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "moment", "key", "resets"),
    [
        ("second", "2026-11-24T12:00:59.999999", "2026-11-24T12:00:59", "2026-11-24T12:01:00"),
        ("second", "2026-12-31T23:59:59.5", "2026-12-31T23:59:59", "2027-01-01T00:00:00"),
        ("minute", "2026-11-24T12:00:59.999999", "2026-11-24T12:00", "2026-11-24T12:01:00"),
        ("minute", "2026-11-24T23:59:30", "2026-11-24T23:59", "2026-11-25T00:00:00"),
        ("hour", "2026-11-24T12:30:00", "2026-11-24T12", "2026-11-24T13:00:00"),
        ("hour", "2026-11-24T23:59:59.999999", "2026-11-24T23", "2026-11-25T00:00:00"),
        ("day", "2026-11-24T23:59:59.999999", "2026-11-24", "2026-11-25T00:00:00"),
        ("day", "2026-12-31T12:00:00", "2026-12-31", "2027-01-01T00:00:00"),
        ("month", "2026-11-30T23:59:59", "2026-11", "2026-12-01T00:00:00"),
        ("month", "2026-12-31T23:59:59", "2026-12", "2027-01-01T00:00:00"),
        ("month", "2028-02-29T10:00:00", "2028-02", "2028-03-01T00:00:00"),
    ],
)
def test_periods_are_utc_calendar_periods(kind: str, moment: str, key: str, resets: str) -> None:
    period = period_of(kind, datetime.fromisoformat(moment).replace(tzinfo=UTC))  # type: ignore[arg-type]

    assert period.key == key
    assert period.end == datetime.fromisoformat(resets).replace(tzinfo=UTC)
    assert period.start < period.end


def test_a_period_follows_utc_not_the_local_offset() -> None:
    # 2026-12-01 01:30 in Paris is still November in UTC.
    paris = datetime(2026, 12, 1, 1, 30, tzinfo=UTC) + timedelta(hours=-1)
    assert period_of("month", paris.astimezone(UTC)).key == "2026-12"
    late = datetime.fromisoformat("2026-12-01T00:30:00+01:00")
    assert period_of("month", late).key == "2026-11"


# --- levels and the reserve -------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "used", "level"),
    [
        ("finnhub", 29, "ok"),
        ("finnhub", 30, "warning"),  # 50 % of 60
        ("finnhub", 47, "warning"),
        ("finnhub", 48, "critical"),  # 80 % of 60
        ("sendgrid", 49, "ok"),
        ("sendgrid", 50, "warning"),
        ("sendgrid", 80, "critical"),
        ("tiingo", 250, "warning"),
        ("tiingo", 399, "warning"),
        ("tiingo", 400, "critical"),
    ],
)
def test_levels_are_warning_from_half_and_critical_from_four_fifths(
    service: str, used: int, level: str
) -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    quotas = tracker(store, clock)

    spend(quotas, service, used, priority=True)

    view = quotas.view(service)
    assert (view.used, view.level) == (used, level)


def test_the_last_tenth_is_kept_for_priority_calls() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    quotas = tracker(store, clock)
    spend(quotas, "sendgrid", 90)  # without priority: up to 90 % of 100

    with pytest.raises(QuotaExhaustedError) as refused:
        quotas.acquire("sendgrid")
    spend(quotas, "sendgrid", 10, priority=True)  # the reserve
    with pytest.raises(QuotaExhaustedError) as spent:
        quotas.acquire("sendgrid", priority=True)

    assert refused.value.used == 90 and not refused.value.priority
    assert "reserve" in str(refused.value)
    assert spent.value.used == 100 and spent.value.limit == 100 and spent.value.priority
    # Both wait for the day's end (UTC), 12 hours after noon
    assert spent.value.retry_after_s == 12 * 3600
    assert spent.value.period.end == datetime(2026, 11, 25, tzinfo=UTC)
    assert isinstance(spent.value, ProviderError) and not spent.value.counts_as_failure
    assert store.get("sendgrid:requests_per_day", "2026-11-24") == 100


def test_the_reserve_is_whole_calls_of_the_limit() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    quotas = tracker(store, clock)

    spend(quotas, "finnhub", 54)  # 90 % of 60
    with pytest.raises(QuotaExhaustedError):
        quotas.acquire("finnhub")
    spend(quotas, "finnhub", 6, priority=True)
    with pytest.raises(QuotaExhaustedError):
        quotas.acquire("finnhub", priority=True)


def test_a_service_without_a_quota_is_not_counted() -> None:
    quotas = tracker(InMemoryQuotaStore(), Clock())

    assert quotas.acquire("elsewhere") is None


# --- period roll-over ----------------------------------------------------------------------


def test_the_minute_quota_starts_again_at_the_next_utc_minute() -> None:
    store, clock = InMemoryQuotaStore(), Clock(START + timedelta(seconds=30))
    quotas = tracker(store, clock)
    spend(quotas, "finnhub", 54)
    with pytest.raises(QuotaExhaustedError) as refused:
        quotas.acquire("finnhub")
    assert refused.value.retry_after_s == 30

    clock.advance(30)  # 12:01:00

    quotas.acquire("finnhub")
    view = quotas.view("finnhub")
    assert (view.used, view.period, view.level) == (1, "2026-11-24T12:01", "ok")
    assert store.get("finnhub:requests_per_minute", "2026-11-24T12:00") == 54


def test_counts_pending_at_a_roll_over_go_to_the_period_they_were_made_in() -> None:
    store, clock = InMemoryQuotaStore(), Clock(datetime(2026, 11, 24, 23, 59, 0, tzinfo=UTC))
    quotas = tracker(store, clock)
    spend(quotas, "sendgrid", 3)  # counted in memory, not written yet
    assert store.get("sendgrid:requests_per_day", "2026-11-24") == 0

    clock.advance(90)  # 2026-11-25 00:00:30
    quotas.acquire("sendgrid")

    assert store.get("sendgrid:requests_per_day", "2026-11-24") == 3
    assert quotas.view("sendgrid").used == 1


def test_the_monthly_quota_rolls_over_on_the_first_of_the_month_in_utc() -> None:
    store, clock = InMemoryQuotaStore(), Clock(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    quotas = tracker(store, clock)
    spend(quotas, "tiingo", 450)
    with pytest.raises(QuotaExhaustedError) as refused:
        quotas.acquire("tiingo")
    assert refused.value.retry_after_s == 1

    clock.advance(1)

    quotas.acquire("tiingo")
    view = quotas.view("tiingo")
    assert (view.period, view.used) == ("2026-12", 1)
    assert view.resets_at == datetime(2027, 1, 1, tzinfo=UTC)


# --- batched sync and near-limit adds -------------------------------------------------------


def test_far_from_the_limit_calls_are_counted_in_memory_and_added_once_a_minute() -> None:
    store, clock = CountingStore(), Clock()
    quotas = tracker(store, clock)

    for _ in range(20):  # 20 of 500: far from every level
        quotas.acquire("tiingo")
        clock.advance(2)
    assert store.adds == [] and store.reads == 1  # the period's total, read once
    assert (quotas.stats.hits, quotas.stats.misses) == (19, 1)
    assert quotas.view("tiingo").used == 20  # synced 0 + 20 pending

    clock.advance(30)  # a minute since the last read
    quotas.acquire("tiingo")

    assert store.adds == [20]  # added (and the total read back) before the call is counted
    assert (
        store.get("tiingo:requests_per_month", "2026-11") == 20 and quotas.view("tiingo").used == 21
    )


def test_a_burst_adds_a_batch_at_a_time_without_waiting_for_the_minute() -> None:
    store, clock = CountingStore(), Clock()
    quotas = tracker(store, clock)

    spend(quotas, "finnhub", 9)  # a batch is 5 % of 60: 3 calls

    assert store.adds == [3, 3, 3]


def test_crossing_a_level_adds_the_pending_counts_at_once() -> None:
    store, clock = CountingStore(), Clock()
    quotas = tracker(store, clock, batch_fraction=0.9)  # no batch fills before the level

    spend(quotas, "sendgrid", 49)
    assert store.adds == []
    quotas.acquire("sendgrid")  # the 50th: warning

    assert store.adds == [50]


def test_near_the_limit_every_call_is_a_conditional_add() -> None:
    store, clock = CountingStore(), Clock()
    quotas = tracker(store, clock)
    spend(quotas, "sendgrid", 80)  # critical
    adds = list(store.adds)

    spend(quotas, "sendgrid", 5)

    assert store.adds == adds and store.conditional == 5
    assert store.get("sendgrid:requests_per_day", "2026-11-24") == 85


def test_an_estimate_misses_other_instances_calls_until_it_syncs() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    first, second = tracker(store, clock), tracker(store, clock)
    spend(first, "tiingo", 10)
    spend(second, "tiingo", 20)

    assert first.view("tiingo").used == 10  # its own calls only: an estimate, and low
    assert store.get("tiingo:requests_per_month", "2026-11") == 0
    clock.advance(60)
    spend(first, "tiingo", 1)  # adds its 10, learns the total, counts this call
    spend(second, "tiingo", 1)

    assert store.get("tiingo:requests_per_month", "2026-11") == 30
    assert (first.view("tiingo").used, second.view("tiingo").used) == (11, 31)
    first.flush()
    second.flush()
    assert first.view("tiingo", fresh=True).used == 32


def test_near_the_limit_instances_racing_for_the_last_units_get_exactly_the_cap() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    instances = [tracker(store, clock) for _ in range(3)]
    for quotas in instances:
        spend(quotas, "sendgrid", 27, priority=True)
        quotas.flush()  # 81 in the table: critical, so every call is a conditional add
    clock.advance(60)

    allowed = refused = 0
    for _ in range(10):
        for quotas in instances:
            try:
                quotas.acquire("sendgrid")
            except QuotaExhaustedError:
                refused += 1
            else:
                allowed += 1

    assert (store.get("sendgrid:requests_per_day", "2026-11-24"), allowed, refused) == (90, 9, 21)


def test_far_from_the_limit_a_cap_is_passed_by_at_most_a_batch_per_instance() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    instances = [tracker(store, clock) for _ in range(3)]

    for _ in range(40):
        for quotas in instances:
            with contextlib.suppress(QuotaExhaustedError):
                quotas.acquire("sendgrid")
    for quotas in instances:
        quotas.flush()

    batch = QuotaPolicy().batch(100)
    assert 90 <= store.get("sendgrid:requests_per_day", "2026-11-24") <= 90 + len(instances) * batch
    for quotas in instances:
        with pytest.raises(QuotaExhaustedError):
            quotas.acquire("sendgrid")


def test_a_stale_instance_passes_the_cap_by_one_batch_at_most() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    stale, busy = tracker(store, clock), tracker(store, clock)
    stale.acquire("sendgrid")  # it read the day's total (0) and counts this call locally
    spend(busy, "sendgrid", 89)  # with that call, the true total is at the 90 % cap

    allowed = 0
    for _ in range(10):
        with contextlib.suppress(QuotaExhaustedError):
            stale.acquire("sendgrid")
            allowed += 1

    # Its batch of 5 filled, it added them, learned the total and stopped: 4 past the cap.
    assert allowed == 4
    assert store.get("sendgrid:requests_per_day", "2026-11-24") == 94


def test_a_call_given_back_is_not_counted() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    quotas = tracker(store, clock)
    far = quotas.acquire("sendgrid")
    quotas.release(far)
    assert quotas.view("sendgrid").used == 0

    spend(quotas, "sendgrid", 85)  # near the limit: reserved in the table
    near = quotas.acquire("sendgrid")
    assert near is not None and near.reserved
    quotas.release(near)

    assert store.get("sendgrid:requests_per_day", "2026-11-24") == 85
    assert quotas.view("sendgrid").used == 85


def test_flush_writes_what_is_pending_and_views_can_write_or_not() -> None:
    store, clock = CountingStore(), Clock()
    quotas = tracker(store, clock)
    spend(quotas, "tiingo", 3)

    assert quotas.view("tiingo", fresh=True).used == 3  # read-only: nothing written
    assert store.adds == []
    quotas.flush()
    assert store.adds == [3]
    spend(quotas, "tiingo", 2)
    assert quotas.view("tiingo", fresh=True, write=True).pending == 0
    assert store.get("tiingo:requests_per_month", "2026-11") == 5


def test_health_reads_do_not_delay_the_flush_of_pending_counts() -> None:
    store, clock = CountingStore(), Clock()
    quotas = tracker(store, clock)
    quotas.acquire("tiingo")
    for _ in range(3):
        clock.advance(30)
        quotas.view("tiingo", fresh=True)  # a health probe's read, no write

    quotas.acquire("tiingo")

    assert store.adds == [1]  # a minute after the last add, whatever was read in between


def test_the_tracker_fails_open_when_the_store_is_down() -> None:
    class Down(InMemoryQuotaStore):
        def get(self, service: str, period: str) -> int:
            raise ConnectionError("table unreachable")

        def add(self, service, period, amount, *, now, expires_at):  # type: ignore[no-untyped-def]
            raise ConnectionError("table unreachable")

    store, clock = Down(), Clock()
    quotas = tracker(store, clock)

    spend(quotas, "sendgrid", 60)  # crosses the warning level: the add fails, logged

    assert quotas.view("sendgrid").used == 60


def test_a_zero_sync_interval_adds_at_every_call() -> None:
    store, clock = CountingStore(), Clock()
    quotas = tracker(store, clock, sync_interval=timedelta(0))

    spend(quotas, "tiingo", 3)

    assert store.adds == [1, 1]  # each call's count, at the next one
    assert quotas.view("tiingo", write=True).pending == 0
    assert store.get("tiingo:requests_per_month", "2026-11") == 3
