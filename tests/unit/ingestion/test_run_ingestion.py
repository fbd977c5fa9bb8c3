"""One ingestion cycle on the in-memory fakes, with sources and a publisher we control."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.adapters.errors import ProviderUnavailableError
from services.adapters.models import NewsArticle, ProviderSentiment
from services.ingestion.dedupe import canonical_url, dedup_key
from services.ingestion.run import IngestionDependencies, IngestionPolicy, run_ingestion
from services.resilience.guard import AllowAll
from services.store.memory import InMemoryArticleRepository, InMemorySentimentStore

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def news(
    provider: str,
    pid: str,
    url: str,
    tickers: tuple[str, ...] = ("AAPL",),
    title: str = "Apple beats estimates",
    description: str = "",
) -> NewsArticle:
    return NewsArticle(
        provider,
        pid,
        title,
        description,
        url,
        "wire",  # type: ignore[arg-type]
        NOW - timedelta(hours=1),
        tickers,
    )


@dataclass
class Source:
    name: str
    articles: list[NewsArticle] = field(default_factory=list)
    failure: Exception | None = None
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def fetch_news(
        self, tickers: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[NewsArticle]:
        self.calls.append(tuple(tickers))
        if self.failure is not None:
            raise self.failure
        return list(self.articles)


class Sentiment:
    def fetch_sentiment(self, ticker: str) -> ProviderSentiment:
        return ProviderSentiment(ticker, 0.75, 0.25, 12, 1.1, 10.0, 0.7)


@dataclass
class Publisher:
    messages: list[dict[str, Any]] = field(default_factory=list)
    failing: bool = False

    def publish(self, message: dict[str, Any]) -> str:
        if self.failing:
            raise ConnectionError("topic unreachable")
        self.messages.append(message)
        return str(len(self.messages))

    def keys(self) -> list[str]:
        return [k for m in self.messages for k in m["article_keys"]]


def deps(
    tiingo: Source,
    finnhub: Source,
    publisher: Publisher,
    *,
    articles: InMemoryArticleRepository | None = None,
    now: datetime = NOW,
    batch: int = 2,
) -> IngestionDependencies:
    articles = articles or InMemoryArticleRepository(clock=lambda: now)
    return IngestionDependencies(
        news_sources=[tiingo, finnhub],
        sentiment_source=Sentiment(),
        articles=articles,
        sentiment=InMemorySentimentStore(articles),
        publisher=publisher,
        guard=AllowAll(),
        clock=lambda: now,
        policy=IngestionPolicy(publish_batch_size=batch, stale_pending_after=timedelta(minutes=10)),
    )


def test_one_story_from_both_sources_is_stored_once_with_both_attributions() -> None:
    tiingo = Source(
        "tiingo",
        [
            news("tiingo", "t1", "https://x.example/a?utm_source=t"),
            news("tiingo", "t2", "https://x.example/b"),
        ],
    )
    finnhub = Source(
        "finnhub",
        [
            news("finnhub", "f1", "https://X.example/a", ("AAPL", "MSFT")),
            news("finnhub", "f1", "https://X.example/a", ("AAPL", "MSFT")),
        ],
    )
    publisher = Publisher()
    d = deps(tiingo, finnhub, publisher)

    summary = run_ingestion(["MSFT", "AAPL", "AAPL"], d)

    assert summary.tickers == ["AAPL", "MSFT"]
    assert summary.fetched == {"tiingo": 2, "finnhub": 2}
    assert (summary.stories, summary.new, summary.duplicates) == (2, 2, 0)
    story = d.articles.get(dedup_key(tiingo.articles[0]))
    assert story.sources == {"tiingo": "t1", "finnhub": "f1"}
    assert story.tickers == ("AAPL", "MSFT")
    assert story.status == "pending"
    assert sorted(publisher.keys()) == sorted(summary_keys(tiingo))
    assert summary.published == 2 and summary.messages == 1
    assert summary.sentiment_samples == 2  # Finnhub's figure per ticker


def summary_keys(source: Source) -> list[str]:
    return [dedup_key(a) for a in source.articles]


def test_a_rerun_inserts_and_publishes_nothing_new() -> None:
    tiingo = Source("tiingo", [news("tiingo", "t1", "https://x.example/a")])
    finnhub = Source("finnhub", [news("finnhub", "f9", "https://x.example/z")])
    publisher = Publisher()
    d = deps(tiingo, finnhub, publisher)
    run_ingestion(["AAPL"], d)

    again = run_ingestion(["AAPL"], d)

    assert (again.new, again.duplicates, again.published) == (0, 2, 0)
    assert len(publisher.keys()) == 2


def test_one_source_failing_does_not_stop_the_other() -> None:
    tiingo = Source("tiingo", failure=ProviderUnavailableError("tiingo", "GET /tiingo/news -> 503"))
    finnhub = Source("finnhub", [news("finnhub", "f1", "https://x.example/a")])

    summary = run_ingestion(["AAPL"], deps(tiingo, finnhub, Publisher()))

    assert summary.new == 1
    assert summary.fetched == {"tiingo": 0, "finnhub": 1}
    assert "503" in summary.errors["tiingo"]


def test_unpublished_items_stay_pending_and_are_republished_once_stale() -> None:
    tiingo = Source("tiingo", [news("tiingo", "t1", "https://x.example/a")])
    finnhub = Source("finnhub")
    articles = InMemoryArticleRepository(clock=lambda: NOW)
    broken = Publisher(failing=True)

    first = run_ingestion(["AAPL"], deps(tiingo, finnhub, broken, articles=articles))
    assert (first.new, first.published) == (1, 0)
    assert "topic unreachable" in first.errors["publish"]

    healthy = Publisher()
    soon = run_ingestion(
        ["AAPL"], deps(tiingo, finnhub, healthy, articles=articles, now=NOW + timedelta(minutes=2))
    )
    assert soon.republished == 0  # not stale yet: it may still be in flight
    later = run_ingestion(
        ["AAPL"], deps(tiingo, finnhub, healthy, articles=articles, now=NOW + timedelta(minutes=15))
    )
    assert later.republished == 1
    assert healthy.keys() == [dedup_key(tiingo.articles[0])]


def test_no_tickers_means_no_provider_calls() -> None:
    tiingo, finnhub = Source("tiingo"), Source("finnhub")
    summary = run_ingestion([], deps(tiingo, finnhub, Publisher()))
    assert summary.stories == 0 and not tiingo.calls and not finnhub.calls


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://News.example/path/?utm_source=x&id=3#top", "https://news.example/path?id=3"),
        ("https://news.example/p?b=2&a=1", "https://news.example/p?a=1&b=2"),
    ],
)
def test_canonical_urls_ignore_tracking_order_and_fragments(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b)


def test_stories_without_url_are_recognised_by_headline_and_day() -> None:
    one = news("tiingo", "1", "", title="Apple Beats Estimates!")
    two = news("finnhub", "2", "", title="apple beats estimates")
    other = news("finnhub", "3", "", title="Apple misses estimates")
    assert dedup_key(one) == dedup_key(two) != dedup_key(other)
