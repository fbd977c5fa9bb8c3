"""Relevance on the table: stored with the score, weighted sums in the buckets, old buckets
readable and upgraded on their next write (moto)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.analysis.buckets import ScoredArticle
from services.store import keys
from services.store.articles import DynamoArticleRepository
from services.store.models import Article
from services.store.sentiment import DynamoSentimentStore

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)


@pytest.fixture
def table(moto_table: Any) -> Any:
    return moto_table


def story(key: str, tickers: tuple[str, ...]) -> Article:
    return Article(
        dedup_key=key, title=f"story {key}", description="", url=f"https://n/{key}",
        published_at=NOW - timedelta(minutes=5), tickers=tickers, sources={"finnhub": key},
        ingested_at=NOW,
    )  # fmt: skip


def test_relevance_is_stored_and_buckets_hold_weighted_sums(table: Any) -> None:
    articles = DynamoArticleRepository(table, clock=lambda: NOW)
    store = DynamoSentimentStore(table)
    articles.insert_many([story("a", ("AAPL", "MSFT")), story("b", ("MSFT",))])
    scored = [
        ScoredArticle(articles.get("a"), 0.9, "positive", 0.8, "m", {"AAPL": 1.0, "MSFT": 0.1}),
        ScoredArticle(articles.get("b"), -0.5, "negative", 0.8, "m", {"MSFT": 0.8}),
    ]

    assert sorted(store.record(scored, NOW)) == ["a", "b"]

    assert articles.get("a").relevance == {"AAPL": 1.0, "MSFT": 0.1}
    (hour,) = store.history("MSFT", "our_model", "H", NOW, NOW)
    assert (hour.count, hour.relevance_weight) == (2, pytest.approx(0.9))
    assert hour.weighted_average == pytest.approx((0.09 - 0.4) / 0.9)
    assert hour.average == pytest.approx(0.2)


def test_a_bucket_from_before_relevance_reads_plainly_and_is_upgraded_on_write(
    table: Any,
) -> None:
    # Given an hourly bucket written before relevance existed: 3 articles, sum 0.6
    table.put_item(
        Item={
            **keys.sentiment_bucket("MSFT", "our_model", "H", "2026-11-24T12:00Z"),
            "entity": "sentiment_bucket",
            "ticker": "MSFT",
            "source": "our_model",
            "resolution": "H",
            "bucket_start": "2026-11-24T12:00Z",
            "count": 3,
            "score_sum": Decimal("0.6"),
            "min_score": Decimal("0.1"),
            "max_score": Decimal("0.3"),
        }
    )
    store = DynamoSentimentStore(table)
    (old,) = store.history("MSFT", "our_model", "H", NOW, NOW)
    assert old.weight is None
    assert old.weighted_average == pytest.approx(0.2)  # every old article counts fully

    # When an article listing MSFT in passing is added
    articles = DynamoArticleRepository(table, clock=lambda: NOW)
    articles.insert_many([story("c", ("AAPL", "MSFT"))])
    item = ScoredArticle(articles.get("c"), -1.0, "negative", 0.9, "m", {"MSFT": 0.1})
    store.record([item], NOW)

    # Then the bucket's weights start from its count and sum, and the new article weighs 0.1
    (new,) = store.history("MSFT", "our_model", "H", NOW, NOW)
    assert new.count == 4
    assert new.relevance_weight == pytest.approx(3.1)
    assert new.weighted_average == pytest.approx((0.6 - 0.1) / 3.1)
