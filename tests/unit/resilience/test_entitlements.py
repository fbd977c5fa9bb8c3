"""Provider plans: endpoints a plan excludes are never called, a provider's "not in your plan"
stops this instance at once and the others through the table, and nothing of it is an error
or a circuit failure; the sentiment view and the health check say so, with the reason."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.adapters.errors import ProviderNotEntitledError
from services.adapters.models import NewsArticle, ProviderSentiment
from services.adapters.plans import Endpoint, provider_plans
from services.ingestion.run import IngestionDependencies, run_ingestion
from services.market.sentiment_view import configuration_sentiment
from services.ops.health import entitlements_check
from services.resilience.entitlements import Entitlements
from services.resilience.guard import AllowAll
from services.settings import Settings
from services.store.entitlements import Refusal
from services.store.memory import (
    InMemoryArticleRepository,
    InMemoryEntitlementStore,
    InMemorySentimentStore,
)
from tests.clock import Clock

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REASON = "You do not have permission to access the News API"


class Source:
    """A news source that counts its calls, or answers "not in your plan" like Tiingo."""

    def __init__(self, name: str, endpoint: Endpoint, *, refuses: bool = False) -> None:
        self.name, self.news_endpoint, self.refuses, self.calls = name, endpoint, refuses, 0
        self.last_requests = 0

    def news_requests(self, tickers: Sequence[str]) -> int:
        return 1

    def fetch_news(
        self, tickers: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[NewsArticle]:
        self.calls += 1
        self.last_requests = 1
        if self.refuses:
            raise ProviderNotEntitledError(
                self.name, f"GET /news -> 403: {REASON}", 403, endpoint="news", reason=REASON
            )
        return []


class Sentiment:
    def __init__(self) -> None:
        self.calls = 0

    def fetch_sentiment(self, ticker: str) -> ProviderSentiment:
        self.calls += 1
        return ProviderSentiment(ticker, 0.6, 0.4, 10, 1.0, 1.0, 0.5)


class Publisher:
    def publish(self, message: dict[str, Any]) -> str:
        return "1"


def gate(store: InMemoryEntitlementStore, clock: Clock, **plans: str) -> Entitlements:
    settings = Settings(**{f"{p}_plan": plan for p, plan in plans.items()})
    return Entitlements(provider_plans(settings), store, clock)


def cycle(entitlements: Entitlements, *sources: Source, sentiment: Sentiment) -> Any:
    articles = InMemoryArticleRepository()
    deps = IngestionDependencies(
        news_sources=list(sources),
        sentiment_source=sentiment,
        articles=articles,
        sentiment=InMemorySentimentStore(articles),
        publisher=Publisher(),
        guard=AllowAll(),
        clock=lambda: NOW,
        entitlements=entitlements,
    )
    return run_ingestion(["AAPL"], deps)


def test_a_free_plan_never_calls_its_premium_endpoints_and_reports_no_error() -> None:
    clock, store = Clock(NOW), InMemoryEntitlementStore()
    tiingo, finnhub, sentiment = (
        Source("tiingo", "news"),
        Source("finnhub", "company_news"),
        Sentiment(),
    )
    summary = cycle(
        gate(store, clock, tiingo="free", finnhub="free"), tiingo, finnhub, sentiment=sentiment
    )
    assert (tiingo.calls, finnhub.calls, sentiment.calls) == (0, 1, 0)
    assert summary.errors == {}
    assert set(summary.not_entitled) == {"tiingo", "finnhub_sentiment"}
    assert "free plan" in summary.not_entitled["tiingo"]
    assert store.items == {}  # the plan's choice is not news to the other instances


def test_a_provider_refusal_stops_this_instance_and_then_the_others() -> None:
    clock, store = Clock(NOW), InMemoryEntitlementStore()
    first, second = gate(store, clock), gate(store, clock)
    second.refusals()  # the other instance has read the table before the refusal
    refusing = Source("tiingo", "news", refuses=True)
    summary = cycle(first, refusing, sentiment=Sentiment())
    assert summary.errors == {} and summary.not_entitled == {"tiingo": REASON}
    cycle(first, refusing, sentiment=Sentiment())
    assert refusing.calls == 1  # asked once, never again by this instance
    assert second.refusal("tiingo", "news") is None  # until its copy is a minute old
    clock.now += timedelta(seconds=61)
    refusal = second.refusal("tiingo", "news")
    assert refusal is not None and refusal.reason == REASON and refusal.by == "provider"
    with pytest.raises(ProviderNotEntitledError) as raised:
        second.check("tiingo", "news")
    assert raised.value.counts_as_failure is False


def test_a_recorded_refusal_expires_so_an_upgraded_key_is_tried_again() -> None:
    clock, store = Clock(NOW), InMemoryEntitlementStore(keep=timedelta(days=1))
    cycle(gate(store, clock), Source("tiingo", "news", refuses=True), sentiment=Sentiment())
    clock.now += timedelta(days=1, seconds=1)
    assert gate(store, clock).refusal("tiingo", "news") is None


def test_the_sentiment_view_says_not_entitled_with_the_reason() -> None:
    view = configuration_sentiment(
        InMemorySentimentStore(InMemoryArticleRepository()),
        "c1",
        1,
        ["AAPL"],
        NOW,
        frozenset({"finnhub"}),
        {"tiingo": REASON},
    )
    assert view.source_status["tiingo"] == "not_entitled"
    assert view.source_notes == {"tiingo": REASON}
    assert view.source_status["finnhub"] != "not_entitled"


def test_health_is_healthy_for_a_chosen_plan_and_degraded_for_a_surprise() -> None:
    clock, store = Clock(NOW), InMemoryEntitlementStore()
    planned = gate(store, clock, tiingo="free")
    result = entitlements_check(planned.refusals)()
    assert result.status == "healthy"
    assert [(r["provider"], r["endpoint"], r["by"]) for r in result.details["not_entitled"]] == [
        ("tiingo", "news", "plan")
    ]
    cycle(planned, Source("finnhub", "company_news"), sentiment=Sentiment())
    surprised = gate(store, clock)
    surprised.record(
        ProviderNotEntitledError("finnhub", "403", 403, endpoint="news_sentiment", reason="no")
    )
    assert entitlements_check(surprised.refusals)().status == "degraded"


def test_a_forgotten_refusal_is_called_again_here_at_once_and_by_the_others_after_a_read() -> None:
    clock, store = Clock(NOW), InMemoryEntitlementStore()
    here, other = gate(store, clock), gate(store, clock)
    refusing = Source("tiingo", "news", refuses=True)
    cycle(here, refusing, sentiment=Sentiment())
    assert other.refusal("tiingo", "news") is not None  # the other's first read
    # When the plan is known to be back (the free_plan_keys chaos scenario switched off)
    here.forget("tiingo", "news")
    assert store.items == {} and here.refusal("tiingo", "news") is None
    calling = Source("tiingo", "news")
    cycle(here, calling, sentiment=Sentiment())
    assert calling.calls == 1
    # Then the other instance keeps its copy until it reads the table again
    assert other.refusal("tiingo", "news") is not None
    clock.now += timedelta(seconds=61)
    assert other.refusal("tiingo", "news") is None
    # (forgetting what nobody refused is no error)
    other.forget("finnhub", "candles")


class FlakyStore(InMemoryEntitlementStore):
    """A table that fails to write, or to be read, while told to."""

    def __init__(self) -> None:
        super().__init__()
        self.writes_fail = self.reads_fail = False

    def record(self, refusal: Refusal) -> None:
        if self.writes_fail:
            raise ConnectionError("table unreachable")
        super().record(refusal)

    def refusals(self, now: datetime) -> list[Refusal]:
        if self.reads_fail:
            raise ConnectionError("table unreachable")
        return super().refusals(now)


def test_a_refusal_the_table_did_not_take_or_a_failed_read_never_calls_the_endpoint_again() -> None:
    clock, store = Clock(NOW), FlakyStore()
    entitlements = gate(store, clock)

    def refused(provider: str, endpoint: Endpoint) -> None:
        entitlements.record(
            ProviderNotEntitledError(provider, "403", 403, endpoint=endpoint, reason=REASON)
        )

    store.writes_fail = True
    refused("tiingo", "news")
    store.writes_fail = False
    refused("finnhub", "news_sentiment")
    clock.now += timedelta(seconds=61)
    # The table's word replaces the copy, less what only this instance knows
    assert {(r.provider, r.endpoint) for r in entitlements.refusals()} == {
        ("tiingo", "news"),
        ("finnhub", "news_sentiment"),
    }
    store.reads_fail = True
    clock.now += timedelta(seconds=61)
    assert entitlements.refusal("finnhub", "news_sentiment") is not None
