"""The article counts the metrics function reads, checked against both the in-memory
repository and DynamoDB Local (the `repos` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.store.models import Article

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def an_article(key: str, **expiry: datetime) -> Article:
    return Article(key, key, "", f"https://news.example/{key}", NOW, ("AAPL",), {"tiingo": key},
                   NOW, expires_at=expiry.get("expires_at"))  # fmt: skip


def analyze(repos: Any, key: str, label: str, at: datetime) -> None:
    repos.articles.mark_analyzed(
        key, score=0.5, label=label, confidence=0.9, model_version="m1", now=at
    )


def test_counts_by_status_and_by_sentiment_since_a_time(repos: Any) -> None:
    for key in ("a", "b", "c", "d"):
        repos.articles.insert(an_article(key))
    analyze(repos, "a", "positive", NOW - timedelta(hours=2))
    analyze(repos, "b", "positive", NOW)
    analyze(repos, "c", "negative", NOW)

    assert (
        repos.articles.count_by_status("pending"),
        repos.articles.count_by_status("analyzed"),
    ) == (1, 3)
    assert repos.articles.count_by_sentiment("positive", since=NOW - timedelta(hours=3)) == 2
    assert repos.articles.count_by_sentiment("positive", since=NOW - timedelta(hours=1)) == 1
    assert repos.articles.count_by_sentiment("negative", since=NOW) == 1
    assert repos.articles.count_by_sentiment("neutral", since=NOW - timedelta(days=1)) == 0


def test_expired_articles_are_not_counted(repos: Any) -> None:
    repos.articles.insert(an_article("gone", expires_at=datetime(2020, 1, 1, tzinfo=UTC)))

    assert repos.articles.count_by_status("pending") == 0
