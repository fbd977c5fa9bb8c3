"""Several quotas per provider: the tightest decides, a call is counted in all of them and a
refusal leaves none of them charged; units per request, requests counted afterwards, the
distinct-symbol quota, and the own budget on top of a plan. On the in-memory store with a
clock the tests move; several trackers on one store stand for several function instances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.resilience.quota import (
    QuotaExhaustedError,
    QuotaLimit,
    QuotaPolicy,
    QuotaTracker,
    QuotaView,
)
from services.store.memory import InMemoryQuotaStore
from tests.unit.resilience.support import START, Clock

pytestmark = pytest.mark.unit

# Tiingo's free plan, Finnhub's per second and per minute.
TIINGO = (QuotaLimit(50, "hour"), QuotaLimit(1_000, "day"), QuotaLimit(500, "month", "symbols"))
FINNHUB = (QuotaLimit(30, "second"), QuotaLimit(60, "minute"))
HOUR, DAY, SYMBOLS = (
    "tiingo:requests_per_hour",
    "tiingo:requests_per_day",
    "tiingo:symbols_per_month",
)


class CountingStore(InMemoryQuotaStore):
    """Counts the table requests the tracker makes."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    def add(self, service, period, amount, *, now, expires_at):  # type: ignore[no-untyped-def]
        self.requests += 1
        return super().add(service, period, amount, now=now, expires_at=expires_at)

    def add_within(self, service, period, amount, *, cap, now, expires_at):  # type: ignore[no-untyped-def]
        self.requests += 1
        return super().add_within(service, period, amount, cap=cap, now=now, expires_at=expires_at)

    def get(self, service: str, period: str) -> int:
        self.requests += 1
        return super().get(service, period)

    def add_symbols(self, service, period, symbols, *, cap, now, expires_at):  # type: ignore[no-untyped-def]
        self.requests += 1
        return super().add_symbols(
            service, period, symbols, cap=cap, now=now, expires_at=expires_at
        )

    def symbols(self, service: str, period: str) -> frozenset[str]:
        self.requests += 1
        return super().symbols(service, period)


def tracker(
    store: InMemoryQuotaStore, clock: Clock, *limits: QuotaLimit, **policy: object
) -> QuotaTracker:
    return QuotaTracker({"tiingo": limits or TIINGO}, store, clock, QuotaPolicy(**policy))  # type: ignore[arg-type]


def used(quotas: QuotaTracker, service: str = "tiingo") -> dict[str, int]:
    """Every quota's total in the table, after this instance's pending counts are added."""
    return {v.name: v.used for v in quotas.quota_views(service, fresh=True, write=True)}


def named(quotas: QuotaTracker, name: str) -> QuotaView:
    return next(v for v in quotas.quota_views("tiingo") if v.name == name)


# --- the tightest decides, no leaks ---------------------------------------------------------


def test_a_call_is_counted_in_every_quota_and_the_tightest_refuses() -> None:
    store, clock = InMemoryQuotaStore(), Clock(START + timedelta(minutes=15))
    quotas = tracker(store, clock)
    for _ in range(45):  # the hour's 50, less its reserve of 5
        quotas.acquire("tiingo")

    with pytest.raises(QuotaExhaustedError) as refused:
        quotas.acquire("tiingo")

    assert refused.value.quota == "requests_per_hour" and refused.value.limit == 50
    assert refused.value.retry_after_s == 45 * 60  # the hour's end, not the day's
    assert "requests_per_hour quota" in str(refused.value) and "45 of 50 requests" in str(
        refused.value
    )
    assert used(quotas) == {"requests_per_hour": 45, "requests_per_day": 45, "symbols_per_month": 0}


def test_the_views_list_every_quota_tightest_first() -> None:
    quotas = tracker(InMemoryQuotaStore(), Clock())

    assert [v.name for v in quotas.quota_views("tiingo")] == [
        "requests_per_hour",  # unused: the smallest limit leads
        "symbols_per_month",
        "requests_per_day",
    ]
    quotas.acquire("tiingo", symbols=["AAPL", "MSFT", "NVDA", "AMZN", "META"])
    hour, symbols, day = quotas.quota_views("tiingo")
    assert (hour.used, hour.per, hour.counts, hour.period) == (
        1,
        "hour",
        "requests",
        "2026-11-24T12",
    )
    assert (symbols.used, symbols.per, symbols.counts) == (5, "month", "symbols")
    assert day.resets_at == datetime(2026, 11, 25, tzinfo=UTC)
    assert quotas.view("tiingo").name == "requests_per_hour"
    assert list(quotas.all_views()) == ["tiingo"] and quotas.counters() == 3


def test_when_several_quotas_refuse_retry_after_is_the_latest_reset() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    quotas = tracker(store, clock, QuotaLimit(10, "hour"), QuotaLimit(10, "day"))
    for _ in range(9):
        quotas.acquire("tiingo")

    with pytest.raises(QuotaExhaustedError) as refused:
        quotas.acquire("tiingo")

    assert refused.value.quota == "requests_per_day"
    assert refused.value.retry_after_s == 12 * 3600  # midnight, when both have room again


def test_a_refusal_the_table_makes_gives_back_what_the_other_quotas_counted() -> None:
    # This instance's estimate of the hour has room; the table's total, which another
    # instance filled meanwhile, does not: the hour's conditional add refuses after the day
    # counted the call, and the day gives it back.
    store, clock = InMemoryQuotaStore(), Clock()
    limits = (QuotaLimit(1_000, "day"), QuotaLimit(10, "hour"))
    first, other = tracker(store, clock, *limits), tracker(store, clock, *limits)
    for _ in range(8):
        first.acquire("tiingo", priority=True)
    for _ in range(2):
        other.acquire("tiingo", priority=True)

    with pytest.raises(QuotaExhaustedError) as refused:
        first.acquire("tiingo")
    other.flush()

    assert refused.value.quota == "requests_per_hour"
    assert used(first) == {"requests_per_hour": 10, "requests_per_day": 10}
    assert used(other) == {"requests_per_hour": 10, "requests_per_day": 10}


def test_a_refused_call_writes_nothing() -> None:
    store, clock = CountingStore(), Clock()
    quotas = tracker(store, clock, QuotaLimit(10, "hour"), QuotaLimit(20, "day"))
    for _ in range(9):
        quotas.acquire("tiingo")
    before = store.requests

    for _ in range(5):
        with pytest.raises(QuotaExhaustedError):
            quotas.acquire("tiingo")

    assert store.requests == before  # decided on the estimates: no add, no give-back


def test_a_released_call_is_given_back_in_every_quota() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    quotas = tracker(store, clock, QuotaLimit(10, "hour"), QuotaLimit(1_000, "day"))
    for _ in range(8):
        quotas.acquire("tiingo")
    near = quotas.acquire("tiingo", units=1)  # in the hour's critical zone: reserved there
    assert near is not None and near.reserved

    quotas.release(near)

    assert used(quotas) == {"requests_per_hour": 8, "requests_per_day": 8}


# --- units and counting afterwards ---------------------------------------------------------


def test_a_call_declares_its_requests_up_front() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    quotas = QuotaTracker({"finnhub": FINNHUB}, store, clock)

    quotas.acquire("finnhub", units=8)  # company news for 8 tickers: 8 requests
    quotas.acquire("finnhub", units=8)
    quotas.acquire("finnhub", units=8)
    with pytest.raises(QuotaExhaustedError) as refused:  # 24 + 8 > the second's 27
        quotas.acquire("finnhub", units=8)
    quotas.acquire("finnhub", units=3)  # 27: what fits still goes

    assert refused.value.quota == "requests_per_second" and refused.value.retry_after_s == 1
    assert used(quotas, "finnhub") == {"requests_per_second": 27, "requests_per_minute": 27}
    clock.advance(1)
    quotas.acquire("finnhub", units=8)  # the next second has room; the minute counts on
    assert used(quotas, "finnhub") == {"requests_per_second": 8, "requests_per_minute": 35}


def test_requests_made_beyond_those_declared_are_counted_and_never_refused() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    quotas = tracker(store, clock, QuotaLimit(10, "hour"), QuotaLimit(100, "day"))
    quotas.acquire("tiingo")

    quotas.count("tiingo", 11)  # a paginated answer of 12 pages: past the hour's limit
    quotas.count("tiingo", 0)
    quotas.count("elsewhere", 3)

    assert used(quotas) == {"requests_per_hour": 12, "requests_per_day": 12}
    assert quotas.view("tiingo").level == "critical"
    with pytest.raises(QuotaExhaustedError):
        quotas.acquire("tiingo", priority=True)


def test_units_are_whole_requests() -> None:
    quotas = tracker(InMemoryQuotaStore(), Clock())

    with pytest.raises(ValueError, match="negative"):
        quotas.acquire("tiingo", units=-1)
    ticket = quotas.acquire("tiingo", units=0)  # a call that costs no request

    assert ticket is not None and ticket.counted == ()


def test_periods_of_a_second_an_hour_and_a_day_roll_over_on_their_own() -> None:
    store, clock = InMemoryQuotaStore(), Clock(datetime(2026, 11, 24, 23, 59, 58, tzinfo=UTC))
    limits = (QuotaLimit(5, "second"), QuotaLimit(100, "hour"), QuotaLimit(1_000, "day"))
    quotas = tracker(store, clock, *limits)
    quotas.acquire("tiingo", units=4)
    clock.advance(1)  # 23:59:59: a new second, the same hour and day
    quotas.acquire("tiingo", units=4)
    assert used(quotas) == {
        "requests_per_second": 4,
        "requests_per_hour": 8,
        "requests_per_day": 8,
    }

    clock.advance(1)  # midnight: every period starts again
    quotas.acquire("tiingo", units=2)

    assert used(quotas) == {"requests_per_second": 2, "requests_per_hour": 2, "requests_per_day": 2}
    assert store.get("tiingo:requests_per_second", "2026-11-24T23:59:59") == 4
    assert store.get("tiingo:requests_per_hour", "2026-11-24T23") == 8
    assert store.get("tiingo:requests_per_day", "2026-11-24") == 8


def test_a_health_read_of_a_one_second_quota_asks_the_table_only_when_fresh() -> None:
    store, clock = CountingStore(), Clock()
    quotas = QuotaTracker({"finnhub": FINNHUB}, store, clock)
    quotas.views()  # reads the minute's total (and not the second's)
    before = store.requests

    for _ in range(5):
        clock.advance(1)
        quotas.views()

    assert store.requests == before
    quotas.views(fresh=True)
    assert store.requests == before + 2


# --- the own budget on top of the plan ------------------------------------------------------


def test_an_own_budget_refuses_before_the_plan_would() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    budget = QuotaLimit(5, "month", name="budget_per_month")
    quotas = tracker(store, clock, *TIINGO, budget)
    for _ in range(5):
        quotas.acquire("tiingo")

    with pytest.raises(QuotaExhaustedError) as refused:
        quotas.acquire("tiingo", priority=True)

    assert refused.value.quota == "budget_per_month"
    assert refused.value.period.end == datetime(2026, 12, 1, tzinfo=UTC)
    assert quotas.view("tiingo").name == "budget_per_month"
    assert used(quotas)["requests_per_hour"] == 5


def test_two_quotas_of_one_name_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="two quotas of one name"):
        tracker(InMemoryQuotaStore(), Clock(), QuotaLimit(5, "day"), QuotaLimit(9, "day"))


# --- distinct symbols -----------------------------------------------------------------------


def test_symbols_are_counted_once_a_month_and_known_ones_cost_nothing() -> None:
    store, clock = CountingStore(), Clock()
    quotas = tracker(store, clock, *TIINGO, batch_fraction=0.5)  # requests: no add in this test
    quotas.acquire("tiingo", symbols=["AAPL", "msft "])
    requests = store.requests

    ticket = quotas.acquire("tiingo", symbols=["aapl", "MSFT"])

    assert store.requests == requests  # known this month: no table request
    assert ticket is not None and [c.quota for c in ticket.counted] == [DAY, HOUR]
    assert store.symbols(SYMBOLS, "2026-11") == {"AAPL", "MSFT"}
    quotas.acquire("tiingo", symbols=["AAPL", "NVDA"])
    assert store.symbols(SYMBOLS, "2026-11") == {"AAPL", "MSFT", "NVDA"}
    assert used(quotas)["symbols_per_month"] == 3


def test_new_symbols_past_the_cap_are_refused_before_the_call() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    quotas = tracker(store, clock, QuotaLimit(100, "hour"), QuotaLimit(10, "month", "symbols"))
    quotas.acquire("tiingo", symbols=[f"T{n}" for n in range(8)])

    with pytest.raises(QuotaExhaustedError) as refused:  # 8 + 2 > the 9 outside the reserve
        quotas.acquire("tiingo", symbols=["T0", "NEW1", "NEW2"])
    quotas.acquire("tiingo", symbols=["T0", "NEW1"])  # 9
    quotas.acquire("tiingo", symbols=["NEW2"], priority=True)  # 10: the reserve
    with pytest.raises(QuotaExhaustedError):
        quotas.acquire("tiingo", symbols=["NEW3"], priority=True)
    quotas.acquire("tiingo", symbols=["T1", "NEW2"])  # known: still allowed

    assert refused.value.quota == "symbols_per_month" and refused.value.counts == "symbols"
    assert "8 of 10 symbols" in str(refused.value)
    assert refused.value.period.end == datetime(2026, 12, 1, tzinfo=UTC)
    assert len(store.symbols(SYMBOLS, "2026-11")) == 10
    # The refused calls made no request, so none was counted.
    assert used(quotas)["requests_per_hour"] == 4


def test_the_symbol_quota_starts_again_with_the_month() -> None:
    store, clock = InMemoryQuotaStore(), Clock(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    quotas = tracker(store, clock, QuotaLimit(100, "hour"), QuotaLimit(3, "month", "symbols"))
    quotas.acquire("tiingo", symbols=["AAPL", "MSFT", "NVDA"], priority=True)
    with pytest.raises(QuotaExhaustedError) as refused:
        quotas.acquire("tiingo", symbols=["META"], priority=True)
    assert refused.value.retry_after_s == 1

    clock.advance(1)
    quotas.acquire("tiingo", symbols=["META", "AAPL"], priority=True)

    symbols = named(quotas, "symbols_per_month")
    assert (symbols.name, symbols.period, symbols.used) == ("symbols_per_month", "2026-12", 2)
    assert store.symbols(SYMBOLS, "2026-11") == {"AAPL", "MSFT", "NVDA"}


def test_instances_share_the_symbols_through_the_table() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    limits = (QuotaLimit(100, "hour"), QuotaLimit(10, "month", "symbols"))
    first, second = tracker(store, clock, *limits), tracker(store, clock, *limits)
    first.acquire("tiingo", symbols=["A1", "A2", "A3", "A4", "A5"], priority=True)

    # The second reads the month's set at its first call: the first's symbols are known.
    second.acquire("tiingo", symbols=["A1", "B1", "B2", "B3", "B4"], priority=True)
    second.acquire("tiingo", symbols=["B5"], priority=True)  # 10: the set is full

    # The first's copy still holds 5: its estimate has room, the table's condition does not.
    with pytest.raises(QuotaExhaustedError) as refused:
        first.acquire("tiingo", symbols=["C1"], priority=True)
    first.acquire("tiingo", symbols=["B5", "A1"], priority=True)  # learned, and known

    first.flush()
    second.flush()
    assert refused.value.used == 10
    assert len(store.symbols(SYMBOLS, "2026-11")) == 10
    assert used(first)["requests_per_hour"] == used(second)["requests_per_hour"] == 4


def test_symbols_counted_while_the_table_is_down_are_added_when_it_answers() -> None:
    class Flaky(InMemoryQuotaStore):
        down = True

        def add_symbols(self, service, period, symbols, *, cap, now, expires_at):  # type: ignore[no-untyped-def]
            if self.down:
                raise ConnectionError("table unreachable")
            return super().add_symbols(
                service, period, symbols, cap=cap, now=now, expires_at=expires_at
            )

    store, clock = Flaky(), Clock()
    quotas = tracker(store, clock)
    quotas.acquire("tiingo", symbols=["AAPL", "MSFT"])  # allowed: the tracker fails open
    assert named(quotas, "symbols_per_month").used == 2
    assert store.symbols(SYMBOLS, "2026-11") == set()

    store.down = False
    quotas.flush()

    assert store.symbols(SYMBOLS, "2026-11") == {"AAPL", "MSFT"}
    assert named(quotas, "symbols_per_month").pending == 0


def test_a_call_without_symbols_passes_the_symbol_quota() -> None:
    store, clock = InMemoryQuotaStore(), Clock()
    quotas = tracker(store, clock, QuotaLimit(100, "hour"), QuotaLimit(1, "month", "symbols"))
    quotas.acquire("tiingo", symbols=["AAPL"], priority=True)

    quotas.acquire("tiingo")

    assert used(quotas) == {"symbols_per_month": 1, "requests_per_hour": 2}
