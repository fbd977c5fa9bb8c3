"""`ResilientGuard` in front of the callers that use it: the order of its checks, and what an
open circuit or a spent quota does to prices, sign-in e-mails and the health report."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.adapters.email import GuardedEmailSender
from services.auth.magic_link import EmailNotSentError, MagicLinks
from services.market.prices import PriceService, PricesUnavailableError
from services.ops.health import circuits_check, evaluate, quotas_check, timed_check
from services.resilience.breaker import BreakerPolicy, CircuitOpenError
from services.resilience.guard import AllowAll
from services.resilience.quota import QuotaExhaustedError, QuotaLimit, QuotaPolicy, QuotaTracker
from services.resilience.resilient_guard import ResilientGuard
from services.settings import Settings
from services.store.memory import (
    InMemoryCircuitStore,
    InMemoryQuotaStore,
    InMemoryTokenRepository,
)
from tests.emails import Mailbox
from tests.unit.auth.support import in_memory_magic_links
from tests.unit.market.support import Candles, OhlcStore
from tests.unit.resilience.support import Clock, outage

pytestmark = pytest.mark.unit


@dataclass
class World:
    clock: Clock
    circuits: InMemoryCircuitStore
    counts: InMemoryQuotaStore
    guard: ResilientGuard
    calls: list[str] = field(default_factory=list)

    def instance(self) -> ResilientGuard:
        """Another function instance on the same table."""
        return build(self.clock, self.circuits, self.counts)

    def operation(self, result: Any = "ok", error: Exception | None = None) -> Callable[[], Any]:
        def run() -> Any:
            self.calls.append("called")
            if error is not None:
                raise error
            return result

        return run

    def used(self, service: str) -> int:
        return self.guard.quotas.view(service, fresh=True, write=True).used


def build(
    clock: Clock,
    circuits: InMemoryCircuitStore,
    counts: InMemoryQuotaStore,
    policy: BreakerPolicy | None = None,
) -> ResilientGuard:
    limits = {"tiingo": QuotaLimit(500, "month"), "sendgrid": QuotaLimit(10, "day")}
    quotas = QuotaTracker(limits, counts, clock, QuotaPolicy())
    return ResilientGuard(("tiingo", "finnhub", "sendgrid"), circuits, quotas, clock, policy)


@pytest.fixture
def world() -> World:
    clock, circuits, counts = Clock(), InMemoryCircuitStore(), InMemoryQuotaStore()
    return World(clock, circuits, counts, build(clock, circuits, counts))


def open_tiingo(world: World) -> None:
    for _ in range(5):
        with pytest.raises(Exception, match="500"):
            world.guard.call("tiingo", world.operation(error=outage()))


def test_a_call_runs_and_is_counted(world: World) -> None:
    assert world.guard.call("tiingo", world.operation("candles")) == "candles"
    assert world.calls == ["called"] and world.used("tiingo") == 1


def test_an_open_circuit_refuses_without_calling_or_spending_quota(world: World) -> None:
    open_tiingo(world)
    world.calls.clear()

    with pytest.raises(CircuitOpenError):
        world.guard.call("tiingo", world.operation(), priority=True)

    assert world.calls == [] and world.used("tiingo") == 5


def test_a_spent_quota_refuses_without_calling(world: World) -> None:
    for _ in range(9):
        world.guard.call("sendgrid", world.operation())
    world.calls.clear()

    with pytest.raises(QuotaExhaustedError):
        world.guard.call("sendgrid", world.operation())
    world.guard.call("sendgrid", world.operation(), priority=True)  # the reserve

    assert world.calls == ["called"]
    assert world.guard.breaker("sendgrid").view().failures == 0


def test_the_trial_after_an_outage_closes_the_circuit_for_every_instance(world: World) -> None:
    open_tiingo(world)
    other = world.instance()
    world.clock.advance(60)

    assert world.guard.call("tiingo", world.operation("back")) == "back"

    assert other.breaker("tiingo").view().state == "closed"
    latest = other.transitions()[0]
    assert (latest.from_state, latest.to_state) == ("half_open", "closed")


def test_a_call_refused_because_another_instance_holds_the_trial_gives_its_quota_back() -> None:
    # Open for less than a copy lives: this instance's copy says "open, trial due" while the
    # other instance has already claimed the trial.
    clock, circuits, counts = Clock(), InMemoryCircuitStore(), InMemoryQuotaStore()
    short = BreakerPolicy(open_timeout=timedelta(seconds=30))
    guard, other = build(clock, circuits, counts, short), build(clock, circuits, counts, short)
    world = World(clock, circuits, counts, guard)
    open_tiingo(world)
    clock.advance(30)
    other.breaker("tiingo").before_call()  # the other instance's trial is under way
    calls: list[str] = []

    with pytest.raises(CircuitOpenError, match="trial call under way"):
        guard.call("tiingo", lambda: calls.append("called"))

    assert calls == []
    assert guard.quotas.view("tiingo", fresh=True, write=True).used == 5


def test_a_call_counts_the_requests_it_declares_and_those_counted_after_it() -> None:
    clock, circuits, counts = Clock(), InMemoryCircuitStore(), InMemoryQuotaStore()
    limits = {"finnhub": (QuotaLimit(30, "second"), QuotaLimit(60, "minute"))}
    guard = ResilientGuard(("finnhub",), circuits, QuotaTracker(limits, counts, clock), clock)

    assert guard.call("finnhub", lambda: "news", units=8) == "news"  # one request per ticker
    guard.count("finnhub", 2)  # two more it turned out to need
    calls: list[str] = []
    with pytest.raises(QuotaExhaustedError):  # 10 + 20 > the second's 27 outside the reserve
        guard.call("finnhub", lambda: calls.append("called"), units=20)

    views = guard.quotas.quota_views("finnhub", fresh=True, write=True)
    assert {v.name: v.used for v in views} == {"requests_per_second": 10, "requests_per_minute": 10}
    assert calls == [] and guard.breaker("finnhub").view().failures == 0


def test_a_call_refused_by_the_breaker_gives_back_its_units_in_every_quota() -> None:
    clock, circuits, counts = Clock(), InMemoryCircuitStore(), InMemoryQuotaStore()
    short = BreakerPolicy(open_timeout=timedelta(seconds=30))
    limits = {"tiingo": (QuotaLimit(50, "hour"), QuotaLimit(1_000, "day"))}
    guard, other = (
        ResilientGuard(("tiingo",), circuits, QuotaTracker(limits, counts, clock), clock, short)
        for _ in range(2)
    )

    def failing() -> None:
        raise outage()

    for _ in range(5):
        with pytest.raises(Exception, match="500"):
            guard.call("tiingo", failing)
    clock.advance(30)
    other.breaker("tiingo").before_call()  # the other instance holds the trial

    with pytest.raises(CircuitOpenError):
        guard.call("tiingo", lambda: None, units=3)

    views = guard.quotas.quota_views("tiingo", fresh=True, write=True)
    assert {v.name: v.used for v in views} == {"requests_per_hour": 5, "requests_per_day": 5}


def test_a_call_names_the_symbols_it_asks_for() -> None:
    clock, circuits, counts = Clock(), InMemoryCircuitStore(), InMemoryQuotaStore()
    limits = {"tiingo": (QuotaLimit(50, "hour"), QuotaLimit(2, "month", "symbols"))}
    guard = ResilientGuard(("tiingo",), circuits, QuotaTracker(limits, counts, clock), clock)
    guard.call("tiingo", lambda: None, symbols=["AAPL", "MSFT"], priority=True)

    with pytest.raises(QuotaExhaustedError) as refused:
        guard.call("tiingo", lambda: None, symbols=["NVDA"], priority=True)
    guard.call("tiingo", lambda: None, symbols=["MSFT"])

    assert refused.value.quota == "symbols_per_month"
    assert counts.symbols("tiingo:symbols_per_month", "2026-11") == {"AAPL", "MSFT"}


def test_the_pass_through_guard_takes_the_same_arguments() -> None:
    guard = AllowAll()

    assert guard.call("tiingo", lambda: "ok", priority=True, units=3, symbols=["AAPL"]) == "ok"
    assert guard.count("tiingo", 2) is None


def test_a_service_named_later_gets_a_breaker_too(world: World) -> None:
    for _ in range(5):
        with pytest.raises(Exception, match="500"):
            world.guard.call("alphavantage", world.operation(error=outage("alphavantage")))

    with pytest.raises(CircuitOpenError):
        world.guard.call("alphavantage", world.operation())


# --- e-mail ---------------------------------------------------------------------------------


def magic_links(world: World, mailbox: Mailbox) -> tuple[MagicLinks, InMemoryTokenRepository]:
    sender = GuardedEmailSender(mailbox, world.guard, priority=True)
    return in_memory_magic_links(sender, Settings(), world.clock)


def test_sign_in_links_use_the_reserve_then_stop_with_the_quota(world: World) -> None:
    mailbox = Mailbox()
    links, tokens = magic_links(world, mailbox)

    for n in range(10):  # the day's 10 e-mails, the last one from the reserve
        links.request(f"reader{n}@example.com", None)
    with pytest.raises(EmailNotSentError) as refused:
        links.request("late@example.com", None)

    assert len(mailbox.sent) == 10
    assert refused.value.quota_exhausted
    assert refused.value.retry_after_s == 12 * 3600  # until midnight UTC
    withdrawn = [t for t in tokens.tokens.values() if t.subject == "late@example.com"]
    assert len(withdrawn) == 1 and withdrawn[0].used_at is not None


def test_an_open_sendgrid_circuit_withdraws_the_link_and_says_when_to_retry(world: World) -> None:
    for _ in range(5):
        with pytest.raises(Exception, match="500"):
            world.guard.call("sendgrid", world.operation(error=outage("sendgrid")))
    world.clock.advance(20)
    links, _ = magic_links(world, Mailbox())

    with pytest.raises(EmailNotSentError) as refused:
        links.request("reader@example.com", None)

    assert not refused.value.quota_exhausted and refused.value.retry_after_s == 40


# --- prices ---------------------------------------------------------------------------------


def test_an_open_circuit_serves_the_stored_copy_or_says_when_to_retry(world: World) -> None:
    source, store = Candles(), OhlcStore()
    PriceService(source, store, world.clock, guard=world.guard).candles("AAPL", "1M", "D")
    world.clock.advance(2 * 3600)  # the stored copy is past its freshness
    open_tiingo(world)
    world.clock.advance(15)
    source.calls = 0
    prices = PriceService(source, store, world.clock, guard=world.guard, priority=True)

    stale = prices.candles("AAPL", "1M", "D")
    with pytest.raises(PricesUnavailableError) as unavailable:
        prices.candles("MSFT", "1M", "D")

    assert (stale.layer, stale.stale) == ("l2", True)
    assert source.calls == 0  # the provider was never asked
    assert not unavailable.value.quota_exhausted
    assert unavailable.value.retry_after_s == 45  # when the circuit lets its trial through


def test_a_spent_quota_is_unavailable_prices_marked_as_such(world: World) -> None:
    counts = InMemoryQuotaStore()
    quotas = QuotaTracker({"tiingo": QuotaLimit(1, "day")}, counts, world.clock, QuotaPolicy())
    guard = ResilientGuard(("tiingo",), InMemoryCircuitStore(), quotas, world.clock)
    prices = PriceService(Candles(), OhlcStore(), world.clock, guard=guard, priority=True)
    prices.candles("AAPL", "1M", "D")

    with pytest.raises(PricesUnavailableError) as refused:
        prices.candles("MSFT", "1M", "D")

    assert refused.value.quota_exhausted
    assert refused.value.retry_after_s == 12 * 3600
    assert re.search(r"quota .* used up", str(refused.value))


def test_prices_count_their_symbol_and_a_new_one_past_the_cap_is_refused(world: World) -> None:
    counts = InMemoryQuotaStore()
    limits = {"tiingo": (QuotaLimit(50, "hour"), QuotaLimit(2, "month", "symbols"))}
    quotas = QuotaTracker(limits, counts, world.clock, QuotaPolicy())
    guard = ResilientGuard(("tiingo",), InMemoryCircuitStore(), quotas, world.clock)
    source = Candles()
    prices = PriceService(source, OhlcStore(), world.clock, guard=guard, priority=True)
    prices.candles("AAPL", "1M", "D")
    prices.candles("MSFT", "1M", "D")
    prices.candles("AAPL", "3M", "D")  # a symbol asked for this month already

    with pytest.raises(PricesUnavailableError) as refused:
        prices.candles("NVDA", "1M", "D")

    assert refused.value.quota_exhausted and source.calls == 3
    assert counts.symbols("tiingo:symbols_per_month", "2026-11") == {"AAPL", "MSFT"}


# --- health ---------------------------------------------------------------------------------


def health(world: World) -> Any:
    guard = world.guard
    return evaluate(
        {
            "dynamodb": timed_check("dynamodb", lambda: None, critical=True),
            "circuits": circuits_check(
                lambda: {s: guard.breaker(s).view().state for s in guard.services}
            ),
            "quotas": quotas_check(
                lambda: {
                    s: {v.name: v.level for v in views}
                    for s, views in guard.quotas.all_views().items()
                }
            ),
        }
    )


def test_health_is_degraded_by_an_open_circuit_or_a_critical_quota(world: World) -> None:
    assert health(world).status == "healthy"

    open_tiingo(world)
    report = health(world)
    assert report.status == "degraded"
    assert report.checks["circuits"].details["open"] == ["tiingo"]
    assert not report.checks["circuits"].critical

    world.clock.advance(60)
    world.guard.call("tiingo", world.operation())
    for _ in range(8):
        world.guard.call("sendgrid", world.operation())
    report = health(world)
    assert report.status == "degraded" and report.checks["circuits"].status == "healthy"
    assert report.checks["quotas"].details["critical"] == ["sendgrid"]
    assert report.checks["quotas"].details["critical_limits"] == ["sendgrid:requests_per_day"]
    assert report.checks["quotas"].details["limits"] == {
        "tiingo": {"requests_per_month": "ok"},
        "sendgrid": {"requests_per_day": "critical"},
    }


def test_health_checks_that_cannot_read_are_not_healthy_but_not_critical() -> None:
    def broken() -> dict[str, str]:
        raise ConnectionError("table unreachable")

    report = evaluate(
        {
            "dynamodb": timed_check("dynamodb", lambda: None, critical=True),
            "circuits": circuits_check(broken),
        }
    )

    assert report.status == "degraded"
    assert report.checks["circuits"].status == "unhealthy"


def test_a_guard_refusal_reaches_no_further_than_the_period_end() -> None:
    clock = Clock(datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC))
    quotas = QuotaTracker({"tiingo": QuotaLimit(1, "month")}, InMemoryQuotaStore(), clock)
    quotas.acquire("tiingo")

    with pytest.raises(QuotaExhaustedError) as refused:
        quotas.acquire("tiingo")

    assert refused.value.retry_after_header == "30"


def test_the_guards_caches_report_what_they_saved(world: World) -> None:
    for _ in range(10):
        world.guard.call("tiingo", world.operation())

    circuits, quotas = (layer.layer_stats() for layer in world.guard.cache_layers())

    # One read of the circuit record, then nine decisions (x2: check and permit) from the copy.
    assert (circuits.misses, circuits.hits, circuits.entries) == (1, 19, 1)
    assert circuits.reads_saved == 19 and circuits.ttl_s == 60
    # One read of the month's total, then nine calls counted in memory.
    assert (quotas.misses, quotas.hits, quotas.entries) == (1, 9, 1)
    assert [layer.name for layer in world.guard.cache_layers()] == ["circuit_state", "quota_counts"]
