"""Live accuracy: the stored labels of the latest analyzed articles against the known labels
their URLs point to, with the conventions of the offline evaluation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from services.local.emulators.headlines import LabelledHeadlines, labelled_headlines
from services.local.live_accuracy import (
    MAX_LIMIT,
    NOTHING_LABELLED,
    classification_figures,
    live_accuracy,
    measure,
)
from services.scoring.evaluation import evaluate
from services.scoring.text_model import LABELS
from services.store.memory import InMemoryArticleRepository
from services.store.models import Article

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def headline_rows(headlines: LabelledHeadlines, tone: str, count: int) -> list[int]:
    return [h.row for h in headlines.of_tone(tone)[:count]]  # type: ignore[arg-type]


def an_article(row: int | None, stored: str, minute: int, version: str = "m1") -> Article:
    """An analyzed article whose URL names corpus row `row` (None: a story without one)."""
    slug = f"tfns-valid-{row}-0123456789" if row is not None else "real-news-0123456789"
    return Article(
        dedup_key=f"k{minute}",
        title="a headline",
        description="",
        url=f"https://marketwire.example/2026/11/24/{slug}",
        published_at=NOW,
        tickers=("AAPL",),
        sources={"tiingo": str(minute)},
        ingested_at=NOW,
        status="analyzed",
        sentiment_label=stored,
        sentiment_score=0.0,
        confidence=0.9,
        model_version=version,
        analyzed_at=NOW + timedelta(minutes=minute),
    )


def correctly_scored(headlines: LabelledHeadlines) -> list[Article]:
    """Four articles of each known label, each stored with its true label."""
    articles = []
    for tone in LABELS:
        for row in headline_rows(headlines, tone, 4):
            articles.append(an_article(row, tone, len(articles)))
    return articles


def test_right_labels_score_one_and_a_wrong_stored_label_lowers_the_accuracy() -> None:
    headlines = labelled_headlines()
    articles = correctly_scored(headlines)
    perfect = measure(articles, headlines, limit=500).figures
    assert (perfect.n, perfect.accuracy, perfect.macro_f1) == (12, 1.0, 1.0)

    # When analysis stored "positive" for a headline known to be negative
    wrong = [replace(articles[0], sentiment_label="positive"), *articles[1:]]
    figures = measure(wrong, headlines, limit=500).figures

    # Then one of twelve is wrong, and the confusion matrix says where
    assert figures.accuracy == round(11 / 12, 4)
    assert figures.confusion[0] == [3, 1, 0]  # negative row: 3 right, 1 stored positive
    assert figures.per_class["negative"]["recall"] == 0.75
    assert figures.per_class["positive"]["precision"] == 0.8
    assert sum(map(sum, figures.confusion)) == figures.n == 12
    assert figures.macro_f1 is not None and figures.macro_f1 < 1.0


def test_only_articles_naming_a_labelled_headline_count() -> None:
    headlines = labelled_headlines()
    labelled = correctly_scored(headlines)
    unlabelled = [an_article(None, "negative", 100), an_article(999_999, "negative", 101)]
    found = measure([*labelled, *unlabelled], headlines, limit=500)
    assert found.articles_read == 14 and found.figures.n == 12 and found.figures.accuracy == 1.0


def test_versions_and_the_time_span_are_those_of_the_counted_articles() -> None:
    headlines = labelled_headlines()
    articles = correctly_scored(headlines)
    articles[-1] = replace(articles[-1], model_version="m2")
    body = measure(articles, headlines, limit=500).as_dict()
    assert body["model_versions"] == {"m1": 11, "m2": 1}
    assert body["analyzed_from"] == "2026-11-24T12:00:00.000000Z"
    assert body["analyzed_to"] == "2026-11-24T12:11:00.000000Z"
    assert body["labels"] == list(LABELS) and body["note"] is None
    assert body["corpus"]["name"] == "tfns-valid" and body["corpus"]["licence"] == "MIT"


def test_without_labelled_articles_the_figures_are_unknown_not_zero() -> None:
    body = measure([an_article(None, "neutral", 0)], labelled_headlines(), limit=500).as_dict()
    assert (body["n"], body["accuracy"], body["macro_f1"]) == (0, None, None)
    assert body["confusion"] == [[0, 0, 0]] * 3 and body["note"] == NOTHING_LABELLED


def test_the_figures_follow_the_offline_evaluations_conventions() -> None:
    # The same pairs through evaluate() (a scorer that replays the stored labels) and here.
    truths = ["negative"] * 5 + ["positive"] * 7 + ["neutral"] * 11
    stored = (
        ["negative"] * 3 + ["neutral", "positive"]
        + ["positive"] * 5 + ["neutral", "negative"]
        + ["neutral"] * 9 + ["positive", "negative"]
    )  # fmt: skip

    @dataclass
    class Replayed:
        label: str
        confidence: float = 0.9

    class Replay:
        def score_batch(self, texts: list[str]) -> list[Replayed]:
            return [Replayed(stored[int(t)]) for t in texts]

    offline = evaluate(Replay(), [str(i) for i in range(len(truths))], truths)
    live = classification_figures(zip(truths, stored, strict=True))
    assert (live.n, live.accuracy, live.macro_f1) == (offline.n, offline.accuracy, offline.macro_f1)
    assert live.per_class == offline.per_class and live.confusion == offline.confusion


def test_only_the_latest_articles_up_to_the_limit_are_read() -> None:
    headlines = labelled_headlines()
    repository = InMemoryArticleRepository(clock=lambda: NOW)
    negative = headline_rows(headlines, "negative", 6)
    # Three old articles scored wrong, then three new ones scored right.
    for minute, row in enumerate(negative):
        stored = "positive" if minute < 3 else "negative"
        repository.insert(an_article(row, stored, minute))

    assert live_accuracy(repository, 3)["accuracy"] == 1.0
    everything = live_accuracy(repository, 6)
    assert (everything["n"], everything["accuracy"]) == (6, 0.5)
    with pytest.raises(ValueError, match="limit"):
        live_accuracy(repository, MAX_LIMIT + 1)
