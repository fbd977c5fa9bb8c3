"""One ingestion cycle on the in-memory fakes, with sources and a publisher we control."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.adapters.errors import ProviderUnavailableError
from services.adapters.models import NewsArticle, ProviderSentiment
from services.analysis.buckets import article_bucket_ids
from services.ingestion.dedupe import canonical_url, dedup_key
from services.ingestion.run import (
    IngestionDependencies,
    IngestionPolicy,
    publish_batches,
    run_ingestion,
)
from services.resilience.guard import AllowAll
from services.store.items import MAX_TRANSACTION_ITEMS
from services.store.memory import InMemoryArticleRepository, InMemorySentimentStore
from services.store.models import Article

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
    news_endpoint: str = "news"
    # Requests per fetch: declared up front, and made (more for a paginated answer).
    declared: int = 1
    made: int = 1
    last_requests: int = 0

    def news_requests(self, tickers: Sequence[str]) -> int:
        return self.declared

    def fetch_news(
        self, tickers: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[NewsArticle]:
        self.calls.append(tuple(tickers))
        self.last_requests = self.made
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


@dataclass
class CountingGuard:
    """Records what each guarded call declared, and what was counted after it."""

    calls: dict[str, list[tuple[int, tuple[str, ...]]]] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)

    def call(
        self,
        service: str,
        operation: Callable[[], Any],
        *,
        priority: bool = False,
        units: int = 1,
        symbols: Sequence[str] = (),
    ) -> Any:
        self.calls.setdefault(service, []).append((units, tuple(symbols)))
        return operation()

    def count(self, service: str, units: int) -> None:
        self.counted[service] = self.counted.get(service, 0) + units


def test_each_http_request_of_a_source_is_one_quota_unit() -> None:
    # Finnhub asks once per ticker; Tiingo once, and this time needed three pages
    tiingo = Source("tiingo", declared=1, made=3)
    finnhub = Source("finnhub", news_endpoint="company_news", declared=3, made=3)
    guard = CountingGuard()
    plan = replace(deps(tiingo, finnhub, Publisher()), guard=guard)

    run_ingestion(["AAPL", "MSFT", "NVDA"], plan)

    # (the news call first; Finnhub's sentiment calls follow, one request each)
    assert guard.calls["finnhub"][0] == (3, ("AAPL", "MSFT", "NVDA"))
    assert guard.calls["finnhub"][1:] == [(1, ())] * 3
    assert guard.calls["tiingo"] == [(1, ("AAPL", "MSFT", "NVDA"))]
    assert guard.counted == {"tiingo": 2}


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


def stored_story(key: str, tickers: tuple[str, ...], minutes_ago: int = 0) -> Article:
    return Article(
        dedup_key=key, title=key, description="", url=f"https://n/{key}",
        published_at=NOW - timedelta(minutes=minutes_ago), tickers=tickers,
        sources={"tiingo": key}, ingested_at=NOW,
    )  # fmt: skip


def test_messages_hold_one_ticker_each_and_the_tickers_take_turns() -> None:
    # 5 AAPL stories (one also naming DELL, a peer), 3 MSFT, 1 naming only DELL.
    stories = [stored_story(f"a{i}", ("AAPL",), minutes_ago=i) for i in range(4)]
    stories += [stored_story("a-dell", ("AAPL", "DELL"), minutes_ago=9)]
    stories += [stored_story(f"m{i}", ("MSFT",), minutes_ago=i) for i in range(3)]
    stories += [stored_story("d", ("DELL",))]

    batches = publish_batches(stories, 2)

    keys = [[a.dedup_key for a in batch] for batch in batches]
    # Every story exactly once, no message over the size.
    assert sorted(k for batch in keys for k in batch) == sorted(a.dedup_key for a in stories)
    assert all(1 <= len(batch) <= 2 for batch in keys)
    # Each message is about one ticker: one-ticker stories first, oldest first, then the
    # peer story, which joins its company's messages; consecutive messages (handled at the
    # same time by the topic's workers) are about different tickers.
    assert keys == [["a3", "a2"], ["m2", "m1"], ["d"], ["a1", "a0"], ["m0"], ["a-dell"]]


def test_a_message_fits_one_analysis_transaction_with_its_buckets() -> None:
    # 80 stories an hour apart, each with its own hourly buckets (2 sources x 1 hour), and
    # over three days: one message of 80 would need 80 + 160 + 6 bucket writes.
    stories = [stored_story(f"h{i:02}", ("AAPL",), minutes_ago=60 * i) for i in range(80)]

    batches = publish_batches(stories, 100)

    assert sorted(a.dedup_key for batch in batches for a in batch) == sorted(
        a.dedup_key for a in stories
    )
    for batch in batches:
        buckets = {b for a in batch for b in article_bucket_ids(a)}
        assert len(batch) + len(buckets) <= MAX_TRANSACTION_ITEMS


def test_stored_batches_are_published_even_when_another_batch_fails_the_cycle() -> None:
    # Given a repository that fails on one batch of a cycle
    class FailingOnce(InMemoryArticleRepository):
        def insert_many(self, articles: Sequence[Article]) -> list[str]:
            if any(a.dedup_key == dedup_key(bad) for a in articles):
                raise ConnectionError("table unreachable")
            return super().insert_many(articles)

    good = [news("tiingo", f"t{i}", f"https://x.example/a{i}") for i in range(3)]
    bad = news("tiingo", "tm", "https://x.example/m", ("MSFT",))
    articles = FailingOnce(clock=lambda: NOW)
    publisher = Publisher()
    d = deps(Source("tiingo", [*good, bad]), Source("finnhub"), publisher, articles=articles)

    # When a cycle runs, Then the cycle fails...
    with pytest.raises(ConnectionError):
        run_ingestion(["AAPL", "MSFT"], d)

    # ...but the other batches were stored and published, each key once.
    published = publisher.keys()
    assert sorted(published) == sorted(dedup_key(a) for a in good)
    assert all(articles.get(k).status == "pending" for k in published)
    assert all(len(m["article_keys"]) <= 2 for m in publisher.messages)
