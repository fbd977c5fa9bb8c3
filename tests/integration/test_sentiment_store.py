"""Analysis results and time buckets on DynamoDB Local: exactly once, true averages, races."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from services.analysis.buckets import Sample, ScoredArticle
from services.store import DynamoArticleRepository
from services.store.memory import InMemoryArticleRepository, InMemorySentimentStore
from services.store.models import Article
from services.store.sentiment import DynamoSentimentStore

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


def story(key: str, minutes_ago: int, tickers=("AAPL",), sources=None) -> Article:
    published = NOW - timedelta(minutes=minutes_ago)
    return Article(
        dedup_key=key, title=key, description="", url=f"https://n/{key}", published_at=published,
        tickers=tickers, sources=sources or {"tiingo": key}, ingested_at=NOW,
    )  # fmt: skip


def scored(article: Article, score: float) -> ScoredArticle:
    return ScoredArticle(article, score, "positive" if score > 0 else "negative", 0.9, "m1")


@pytest.fixture(params=["dynamodb_local", "memory"])
def stores(request, fresh_table):
    if request.param == "memory":
        articles = InMemoryArticleRepository()
        return articles, InMemorySentimentStore(articles)
    return DynamoArticleRepository(fresh_table), DynamoSentimentStore(fresh_table)


def test_buckets_hold_true_averages_and_extremes(stores) -> None:
    articles, sentiment = stores
    batch = [story("a", 5), story("b", 10), story("c", 20, sources={"finnhub": "c"})]
    for article in batch:
        articles.insert(article)
    newly = sentiment.record(
        [scored(batch[0], 0.8), scored(batch[1], -0.4), scored(batch[2], 0.3)], NOW
    )
    assert sorted(newly) == ["a", "b", "c"]
    hour = sentiment.history("AAPL", "our_model", "H", NOW - timedelta(hours=1), NOW)
    assert len(hour) == 1 and hour[0].count == 3
    assert hour[0].average == pytest.approx((0.8 - 0.4 + 0.3) / 3)
    assert (hour[0].minimum, hour[0].maximum) == (pytest.approx(-0.4), pytest.approx(0.8))
    tiingo = sentiment.history("AAPL", "tiingo", "D", NOW - timedelta(days=1), NOW)
    assert [b.count for b in tiingo] == [2]  # the Finnhub-only story is not Tiingo's
    assert articles.get("a").status == "analyzed" and articles.get("a").sentiment_score == 0.8


def test_redelivery_adds_nothing(stores) -> None:
    articles, sentiment = stores
    article = story("once", 1)
    articles.insert(article)
    assert sentiment.record([scored(article, 0.5)], NOW) == ["once"]
    assert sentiment.record([scored(article, 0.5)], NOW) == []
    days = sentiment.history("AAPL", "our_model", "D", NOW - timedelta(days=1), NOW)
    assert days[0].count == 1


def test_concurrent_workers_never_lose_a_count(fresh_table) -> None:
    # Given 4 workers analysing disjoint batches that hit the same buckets at once,
    # Then every article is counted exactly once and min/max are the true extremes.
    articles = DynamoArticleRepository(fresh_table)
    sentiment = DynamoSentimentStore(fresh_table)
    batches = []
    for worker in range(4):
        batch = [story(f"w{worker}-{i}", i % 50, tickers=("AAPL", "MSFT")) for i in range(15)]
        for article in batch:
            articles.insert(article)
        batches.append([scored(a, (i - 7) / 10) for i, a in enumerate(batch)])
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def work(batch) -> None:
        barrier.wait()
        try:
            sentiment.record(batch, NOW)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for ticker in ("AAPL", "MSFT"):
        days = sentiment.history(ticker, "our_model", "D", NOW - timedelta(days=1), NOW)
        assert sum(b.count for b in days) == 60
        assert sum(b.total for b in days) == pytest.approx(4 * sum((i - 7) / 10 for i in range(15)))
        assert min(b.minimum for b in days) == pytest.approx(-0.7)
        assert max(b.maximum for b in days) == pytest.approx(0.7)


def test_provider_samples_feed_their_own_series(stores) -> None:
    _, sentiment = stores
    sentiment.record_samples([Sample("NVDA", "finnhub", 0.6), Sample("AMD", "finnhub", -0.5)], NOW)
    sentiment.record_samples([Sample("NVDA", "finnhub", 0.2)], NOW + timedelta(minutes=5))
    hours = sentiment.history(
        "NVDA", "finnhub", "H", NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    )
    assert [(b.count, round(b.average, 3)) for b in hours] == [(2, 0.4)]


def test_a_message_delivered_twice_at_once_is_counted_once(fresh_table) -> None:
    # Given a batch over several tickers and hours (more than one transaction's worth)
    articles = DynamoArticleRepository(fresh_table)
    sentiment = DynamoSentimentStore(fresh_table)
    tickers = ("AAPL", "MSFT", "NVDA")
    batch = [story(f"d{i}", (i * 7) % 180, tickers=(tickers[i % 3],)) for i in range(120)]
    articles.insert_many(batch)
    scores = [scored(a, ((i % 21) - 10) / 10) for i, a in enumerate(batch)]
    # When two workers get the same message at the same time (SNS delivers at least once)
    barrier = threading.Barrier(2)
    results: list[list[str]] = []

    def work() -> None:
        barrier.wait()
        results.append(sentiment.record(scores, NOW))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then each article is analyzed by exactly one of them, and counted exactly once
    assert sorted(k for r in results for k in r) == sorted(a.dedup_key for a in batch)
    for index, ticker in enumerate(tickers):
        mine = [s.score for i, s in enumerate(scores) if i % 3 == index]
        for resolution in ("H", "D"):
            buckets = sentiment.history(
                ticker, "our_model", resolution, NOW - timedelta(days=1), NOW
            )
            assert sum(b.count for b in buckets) == len(mine)
            assert sum(b.total for b in buckets) == pytest.approx(sum(mine))
            assert min(b.minimum for b in buckets) == pytest.approx(min(mine))
            assert max(b.maximum for b in buckets) == pytest.approx(max(mine))
    # And a later redelivery adds nothing
    assert sentiment.record(scores, NOW) == []
    days = sentiment.history("AAPL", "our_model", "D", NOW - timedelta(days=1), NOW)
    assert sum(b.count for b in days) == 40
