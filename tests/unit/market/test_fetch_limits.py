"""Who may make the API fetch prices: cached prices for anyone, a fetch only with a session,
so many an hour per session and per address, and all of them within the API's share of
Tiingo's quotas. Prices through the real service, in-memory stores, a real guard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import product
from typing import Any

import pytest

from services.market.fetch_limits import (
    PER_CLIENT,
    PER_SESSION,
    FetchLimitReachedError,
    PriceFetchLimits,
    SignInToFetchError,
)
from services.market.prices import PRICES_SHARE, PriceService, PricesUnavailableError
from services.market.ranges import PRICE_RESOLUTIONS, RANGES
from services.resilience.allowance import Allowances
from services.resilience.quota import QuotaLimit, QuotaPolicy, QuotaTracker
from services.resilience.resilient_guard import ResilientGuard
from services.settings import Settings
from services.store.memory import InMemoryAllowanceStore, InMemoryCircuitStore, InMemoryQuotaStore
from tests.clock import Clock
from tests.unit.market.support import Candles, OhlcStore

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
ADDRESS = "198.51.100.7"
TICKERS = ["AAPL", "MSFT", "NVDA", "JPM", "AMZN", "META"]


@dataclass
class World:
    tiingo: Candles
    store: OhlcStore
    clock: Clock
    quotas: QuotaTracker
    limits: PriceFetchLimits
    prices: PriceService

    def instance(self) -> PriceService:
        """Another API instance: its own memory, the same table."""
        guard = ResilientGuard(("tiingo",), InMemoryCircuitStore(), self.quotas, self.clock)
        return PriceService(
            self.tiingo, self.store, self.clock, guard=guard, priority=True, share=PRICES_SHARE
        )


def world(*, hourly: int = 10_000, **settings: Any) -> World:
    clock, tiingo, store = Clock(NOW), Candles(), OhlcStore()
    config = Settings(**settings)
    quotas = QuotaTracker(
        {"tiingo": (QuotaLimit(hourly, "hour"), QuotaLimit(100_000, "day"))},
        InMemoryQuotaStore(),
        clock,
        QuotaPolicy(),
        {"tiingo": {PRICES_SHARE: config.tiingo_prices_share}},
    )
    limits = PriceFetchLimits.of(Allowances(InMemoryAllowanceStore(), clock), config)
    w = World(tiingo, store, clock, quotas, limits, None)  # type: ignore[arg-type]
    w.prices = w.instance()
    return w


def walk(w: World, session: str | None, address: str = ADDRESS) -> list[str]:
    """Every ticker x range x candle size once: per request "ok" or what refused it."""
    found = []
    for ticker, range_name, resolution in product(TICKERS, RANGES, PRICE_RESOLUTIONS):
        permit = w.limits.permit(lambda: session, address)
        try:
            w.prices.candles(ticker, range_name, resolution, permit=permit)
            found.append("ok")
        except SignInToFetchError:
            found.append("sign_in")
        except FetchLimitReachedError as refused:
            found.append(refused.exceeded.allowance.name)
        except PricesUnavailableError as refused:
            assert refused.quota_exhausted
            found.append("quota")
    return found


def test_a_miss_without_a_session_never_reaches_tiingo() -> None:
    w = world()

    found = walk(w, None)

    assert set(found) == {"sign_in"} and w.tiingo.calls == 0
    assert w.quotas.view("tiingo").used == 0


def test_cached_prices_are_served_without_a_session() -> None:
    w = world()
    w.prices.candles("AAPL", "1M", "D", permit=w.limits.permit(lambda: "s1", ADDRESS))
    other = w.instance()  # nothing in its memory: the table's copy answers

    answer = other.candles("AAPL", "1M", "D", permit=w.limits.permit(lambda: None, ADDRESS))

    assert (answer.layer, answer.stale, w.tiingo.calls) == ("l2", False, 1)


def test_a_stale_copy_is_served_to_a_caller_who_may_not_fetch() -> None:
    w = world()
    w.prices.candles("AAPL", "1M", "D", permit=w.limits.permit(lambda: "s1", ADDRESS))
    w.clock.now += timedelta(hours=2)  # past the copy's freshness

    answer = w.instance().candles("AAPL", "1M", "D", permit=w.limits.permit(lambda: None, ADDRESS))

    assert (answer.layer, answer.stale, w.tiingo.calls) == ("l2", True, 1)


def test_the_session_is_looked_up_only_when_tiingo_must_be_asked() -> None:
    w = world()
    looked_up = []

    def session() -> str:
        looked_up.append(1)
        return "s1"

    for _ in range(3):
        w.prices.candles("AAPL", "1M", "D", permit=w.limits.permit(session, ADDRESS))

    assert len(looked_up) == 1 and w.tiingo.calls == 1


def test_one_session_causes_at_most_its_hourly_fetches() -> None:
    w = world()

    found = walk(w, "s1")

    # 120 different answers (a long range of small candles is served as a shorter one).
    assert w.tiingo.calls == 30
    assert set(found) == {"ok", PER_SESSION}
    assert w.quotas.view("tiingo").used == 30


def test_one_address_causes_at_most_its_hourly_fetches_whatever_its_sessions() -> None:
    w = world()

    found = [outcome for n in range(5) for outcome in walk(w, f"s{n}")]

    assert w.tiingo.calls == 60
    assert PER_CLIENT in found


def test_the_allowances_come_back_the_next_hour() -> None:
    w = world(price_fetches_per_session_per_hour=2)
    walk(w, "s1")
    w.clock.now += timedelta(hours=1)
    before = w.tiingo.calls

    w.prices.candles("TSLA", "1M", "D", permit=w.limits.permit(lambda: "s1", ADDRESS))

    assert w.tiingo.calls == before + 1


def test_api_fetches_stay_within_their_share_and_leave_the_rest_to_ingestion() -> None:
    w = world(hourly=50)  # Tiingo's free hour: the API's share is 10

    found = [outcome for n in range(3) for outcome in walk(w, f"s{n}", f"198.51.100.{n}")]

    assert w.tiingo.calls == 10
    assert "quota" in found
    for _ in range(40):
        w.quotas.acquire("tiingo")  # ingestion's 40 are all there


def test_a_fetch_the_guard_refused_gives_its_allowance_back() -> None:
    w = world(hourly=50, price_fetches_per_session_per_hour=12)

    found = walk(w, "s1")

    # 10 fetched, then refused by the share without asking Tiingo: the session still has 2.
    assert w.tiingo.calls == 10
    assert "quota" in found and PER_SESSION not in found
