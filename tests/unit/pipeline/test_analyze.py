"""The analysis use case on the in-memory fakes, with a scorer we control."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from services.analysis.analyze import analyze, article_text
from services.store.memory import InMemoryArticleRepository, InMemorySentimentStore
from services.store.models import Article

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Score:
    score: float
    label: str
    confidence: float
    model_version: str = "fake-1"


class KeywordScorer:
    """Positive when the text says 'beats', negative when it says 'misses'."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def score_batch(self, texts: Sequence[str]) -> list[Score]:
        self.seen += texts
        return [
            Score(0.9, "positive", 0.8) if "beats" in t else Score(-0.7, "negative", 0.6)
            for t in texts
        ]


def stored(articles: InMemoryArticleRepository, key: str, title: str) -> Article:
    article = Article(
        dedup_key=key, title=title, description="details", url=f"https://n/{key}",
        published_at=NOW - timedelta(minutes=1), tickers=("AAPL",), sources={"tiingo": key},
        ingested_at=NOW,
    )  # fmt: skip
    articles.insert(article)
    return article


def test_pending_articles_are_scored_once_and_redelivery_is_a_no_op() -> None:
    articles = InMemoryArticleRepository()
    sentiment = InMemorySentimentStore(articles)
    scorer = KeywordScorer()
    stored(articles, "up", "Apple beats estimates")
    stored(articles, "down", "Apple misses estimates")
    deps = {"articles": articles, "sentiment": sentiment, "scorer": scorer, "clock": lambda: NOW}

    first = analyze(["up", "down", "up", "ghost"], **deps)
    again = analyze(["up", "down"], **deps)

    assert (first.received, first.analyzed, first.missing) == (3, 2, 1)
    assert (again.analyzed, again.already_analyzed) == (0, 2)
    assert len(scorer.seen) == 2  # nothing scored twice
    assert articles.get("up").sentiment_label == "positive"
    assert articles.get("down").sentiment_score == -0.7
    day = sentiment.history("AAPL", "our_model", "D", NOW - timedelta(days=1), NOW)
    assert day[0].count == 2 and day[0].average == pytest.approx(0.1)


def test_model_reads_headline_then_description() -> None:
    article = Article("k", "Headline", "Body", "", NOW, ("A",), {}, NOW)
    assert article_text(article) == "Headline. Body"
