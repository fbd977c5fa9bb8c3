"""Articles and their sentiment buckets in memory."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from services.analysis.buckets import (
    Bucket,
    BucketId,
    Contribution,
    Resolution,
    Sample,
    ScoredArticle,
    add_to_bucket,
    bucket_start,
    contributions,
    sample_contributions,
)
from services.clock import Clock, utc_now
from services.store.errors import NotFoundError
from services.store.models import Article


def _status_time(article: Article) -> datetime:
    """When the article entered its current status (the by_status / by_sentiment order)."""
    return article.analyzed_at or article.ingested_at


class InMemoryArticleRepository:
    def __init__(self, clock: Clock = utc_now) -> None:
        self.articles: dict[str, Article] = {}
        self._clock = clock

    def _live(self, article: Article) -> bool:
        return article.expires_at is None or article.expires_at > self._clock()

    def insert(self, article: Article) -> bool:
        current = self.articles.get(article.dedup_key)
        if current is not None:
            sources = {**article.sources, **current.sources}
            tickers = tuple(sorted(set(current.tickers) | set(article.tickers)))
            self.articles[article.dedup_key] = replace(current, sources=sources, tickers=tickers)
            return False
        self.articles[article.dedup_key] = article
        return True

    def get(self, dedup_key: str) -> Article:
        article = self.articles.get(dedup_key)
        if article is None or not self._live(article):
            raise NotFoundError(f"article {dedup_key} not found")
        return article

    def insert_many(self, articles: Sequence[Article]) -> list[str]:
        return [a.dedup_key for a in articles if self.insert(a)]

    def get_many(self, dedup_keys: Sequence[str]) -> list[Article]:
        found = [self.articles.get(k) for k in dict.fromkeys(dedup_keys)]
        return [a for a in found if a is not None and self._live(a)]

    def mark_analyzed(
        self,
        dedup_key: str,
        *,
        score: float,
        label: str,
        confidence: float,
        model_version: str,
        now: datetime,
        relevance: Mapping[str, float] | None = None,
    ) -> bool:
        article = self.get(dedup_key)
        if article.status != "pending":
            return False
        self.articles[dedup_key] = replace(
            article,
            status="analyzed",
            sentiment_score=score,
            sentiment_label=label,
            confidence=confidence,
            model_version=model_version,
            analyzed_at=now,
            relevance=dict(relevance) if relevance else article.relevance,
        )
        return True

    def list_by_status(
        self, status: str, *, before: datetime | None = None, limit: int = 100
    ) -> list[Article]:
        found = [
            a
            for a in self.articles.values()
            if a.status == status and self._live(a) and (before is None or _status_time(a) < before)
        ]
        return sorted(found, key=_status_time)[:limit]

    def latest_by_status(self, status: str, *, limit: int) -> list[Article]:
        found = [a for a in self.articles.values() if a.status == status]
        newest = sorted(found, key=_status_time, reverse=True)[:limit]
        return [a for a in newest if self._live(a)]

    def list_by_tag(self, ticker: str, *, since: datetime, until: datetime) -> list[str]:
        found = [
            a
            for a in self.articles.values()
            if ticker in a.tickers and since <= a.published_at <= until and self._live(a)
        ]
        return [a.dedup_key for a in sorted(found, key=lambda a: a.published_at)]

    def count_by_status(self, status: str) -> int:
        return sum(1 for a in self.articles.values() if a.status == status and self._live(a))

    def count_by_sentiment(self, label: str, *, since: datetime) -> int:
        return sum(
            1
            for a in self.articles.values()
            if a.sentiment_label == label and _status_time(a) >= since and self._live(a)
        )

    def list_by_sentiment(self, label: str, *, since: datetime, limit: int = 100) -> list[Article]:
        found = [
            a
            for a in self.articles.values()
            if a.sentiment_label == label and _status_time(a) >= since and self._live(a)
        ]
        return sorted(found, key=_status_time, reverse=True)[:limit]


class InMemorySentimentStore:
    """Buckets in a dict; shares the article fake so status changes stay exactly-once."""

    def __init__(self, articles: InMemoryArticleRepository) -> None:
        self.articles = articles
        self.buckets: dict[BucketId, Bucket] = {}
        self._lock = threading.Lock()

    def record(self, scored: Sequence[ScoredArticle], now: datetime) -> list[str]:
        with self._lock:
            fresh = [
                s for s in scored if self.articles.get(s.article.dedup_key).status == "pending"
            ]
            for item in fresh:
                self.articles.mark_analyzed(
                    item.article.dedup_key,
                    score=item.score,
                    label=item.label,
                    confidence=item.confidence,
                    model_version=item.model_version,
                    now=now,
                    relevance=item.relevance,
                )
            for bucket_id, contribution in contributions(fresh).items():
                self._add(bucket_id, contribution)
        return [s.article.dedup_key for s in fresh]

    def record_samples(self, samples: Sequence[Sample], at: datetime) -> None:
        with self._lock:
            for bucket_id, contribution in sample_contributions(samples, at).items():
                self._add(bucket_id, contribution)

    def _add(self, bucket_id: BucketId, contribution: Contribution) -> None:
        self.buckets[bucket_id] = add_to_bucket(
            bucket_id, self.buckets.get(bucket_id), contribution
        )

    def history(
        self, ticker: str, source: str, resolution: Resolution, since: datetime, until: datetime
    ) -> list[Bucket]:
        low, high = bucket_start(since, resolution), bucket_start(until, resolution)
        found = [
            b
            for (t, s, r, _), b in self.buckets.items()
            if (t, s, r) == (ticker, source, resolution) and low <= b.start <= high
        ]
        return sorted(found, key=lambda b: b.start)
