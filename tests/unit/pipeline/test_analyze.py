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


def test_relevance_is_stored_and_a_listed_only_ticker_barely_moves() -> None:
    # Given a positive story about Apple that lists Microsoft in passing, and a negative
    # story about Microsoft
    articles = InMemoryArticleRepository()
    sentiment = InMemorySentimentStore(articles)
    about_apple = Article(
        dedup_key="a", title="Apple beats estimates", description="Apple Inc. (AAPL) grew.",
        url="https://n/a", published_at=NOW - timedelta(minutes=1), tickers=("AAPL", "MSFT"),
        sources={"tiingo": "a"}, ingested_at=NOW,
    )  # fmt: skip
    about_microsoft = Article(
        dedup_key="m", title="Microsoft misses estimates", description="Costs rose.",
        url="https://n/m", published_at=NOW - timedelta(minutes=1), tickers=("MSFT",),
        sources={"tiingo": "m"}, ingested_at=NOW,
    )  # fmt: skip
    articles.insert_many([about_apple, about_microsoft])

    # When both are analyzed
    analyze(
        ["a", "m"], articles=articles, sentiment=sentiment, scorer=KeywordScorer(),
        clock=lambda: NOW,
    )  # fmt: skip

    # Then each article keeps its relevance per ticker, next to its score
    stored_apple = articles.get("a").relevance
    assert stored_apple is not None
    assert stored_apple["AAPL"] == pytest.approx(0.95)
    assert stored_apple["MSFT"] == pytest.approx(0.1)
    # And Microsoft's figure is its own story's, barely moved by Apple's good news
    (day,) = sentiment.history("MSFT", "our_model", "D", NOW - timedelta(days=1), NOW)
    assert day.count == 2
    assert day.average == pytest.approx(0.1)  # the plain average is kept
    expected = (0.1 * 0.9 + 0.7 * -0.7) / (0.1 + 0.7)
    assert day.weighted_average == pytest.approx(expected)
    assert day.weighted_average < -0.45
