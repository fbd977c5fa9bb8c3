"""Analyze a batch of pending articles: score them, record scores and buckets exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from services.analysis.buckets import ScoredArticle
from services.clock import Clock
from services.scoring.relevance import RelevanceScorer, default_scorer
from services.store.articles import ArticleRepository
from services.store.models import Article
from services.store.sentiment import SentimentStore


class TextScore(Protocol):
    @property
    def score(self) -> float: ...
    @property
    def label(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def model_version(self) -> str: ...


class TextScorer(Protocol):
    def score_batch(self, texts: Sequence[str]) -> Sequence[TextScore]: ...


@dataclass(frozen=True)
class AnalysisSummary:
    received: int
    analyzed: int
    already_analyzed: int
    missing: int
    # Tickers of the batch's stories: the ones whose alert rules need a look (those of stories
    # analyzed before too, so a redelivered batch still gets its rules checked).
    tickers: tuple[str, ...] = ()


def article_text(article: Article) -> str:
    """What the model reads: the headline, then the description (headlines carry most signal)."""
    return f"{article.title}. {article.description}".strip()


def analyze(
    dedup_keys: Sequence[str],
    *,
    articles: ArticleRepository,
    sentiment: SentimentStore,
    scorer: TextScorer,
    clock: Clock,
    relevance: RelevanceScorer | None = None,
) -> AnalysisSummary:
    """Score the pending articles among `dedup_keys` and record each with its relevance to
    every ticker it lists (written in the same update as the score, no extra item)."""
    relevance = relevance or default_scorer()
    found = articles.get_many(dedup_keys)
    pending = [a for a in found if a.status == "pending"]
    scores = scorer.score_batch([article_text(a) for a in pending]) if pending else []
    scored = [
        ScoredArticle(
            a,
            s.score,
            s.label,
            s.confidence,
            s.model_version,
            relevance.score(a.tickers, a.title, a.description),
        )
        for a, s in zip(pending, scores, strict=True)
    ]
    newly = sentiment.record(scored, clock())
    unique = len(set(dedup_keys))
    return AnalysisSummary(
        received=unique,
        analyzed=len(newly),
        already_analyzed=len(found) - len(newly),
        missing=unique - len(found),
        tickers=tuple(sorted({t for a in found for t in a.tickers})),
    )
