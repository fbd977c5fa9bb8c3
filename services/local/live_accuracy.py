"""How well the pipeline scored the news it really ingested: stored labels against known ones.

The emulated stories are real headlines with sentiment labels, and each story's URL names its
headline's row of the labelled file (`emulators/headlines.py`). The URL is stored with the
article, so the truth of every stored article can be found again from the table alone, after
any restart. Over the most recent analyzed articles (the `by_status` index, newest first, at
most `limit` read), those with such a reference give the accuracy, the macro-F1, per-class
precision, recall and F1 and the confusion matrix (rows the truth, columns the stored label,
in the order and with the rounding of `services/scoring/evaluation.py`), the model versions
that scored them and the time they were scored in.

Local only: the labelled file is not shipped to Lambda, and real news carries no label. The
local stack hands `live_accuracy` to the API, which serves it as `GET /api/v2/ops/accuracy`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from services.clock import iso
from services.local.emulators.headlines import (
    CORPUS_DESCRIPTION,
    CORPUS_LICENCE,
    CORPUS_NAME,
    LabelledHeadlines,
    labelled_headlines,
    row_of_url,
)
from services.scoring.text_model import LABELS
from services.store.models import Article

DEFAULT_LIMIT = 500
MAX_LIMIT = 2000
NOTHING_LABELLED = (
    "no analyzed articles from the labelled corpus yet: run ingestion "
    "(POST /api/v2/ops/ingestion/run) and wait for analysis"
)


class RecentArticles(Protocol):
    def latest_by_status(self, status: str, *, limit: int) -> list[Article]: ...


@dataclass(frozen=True)
class ClassificationFigures:
    """Accuracy and the rest of a labelled sample, with evaluation.py's conventions."""

    n: int
    accuracy: float | None  # None without a sample: unknown, not zero
    macro_f1: float | None
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]  # rows: truth, columns: predicted, in LABELS order


def classification_figures(pairs: Iterable[tuple[str, str]]) -> ClassificationFigures:
    """Figures of (truth, predicted) label pairs; a pair naming an unknown label is left out."""
    index = {label: i for i, label in enumerate(LABELS)}
    confusion = [[0] * len(LABELS) for _ in LABELS]
    for truth, predicted in pairs:
        if truth in index and predicted in index:
            confusion[index[truth]][index[predicted]] += 1
    n = sum(map(sum, confusion))
    per_class: dict[str, dict[str, float]] = {}
    for label, i in index.items():
        hits = confusion[i][i]
        support = sum(confusion[i])
        precision = hits / max(1, sum(row[i] for row in confusion))
        recall = hits / max(1, support)
        f1 = 2 * precision * recall / max(1e-12, precision + recall)
        per_class[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": support,
        }
    if n == 0:
        return ClassificationFigures(0, None, None, per_class, confusion)
    trace = sum(confusion[i][i] for i in range(len(LABELS)))
    macro_f1 = sum(c["f1"] for c in per_class.values()) / len(per_class)
    return ClassificationFigures(n, round(trace / n, 4), round(macro_f1, 4), per_class, confusion)


@dataclass(frozen=True)
class LiveAccuracy:
    limit: int
    articles_read: int
    figures: ClassificationFigures
    model_versions: dict[str, int]
    analyzed_from: datetime | None
    analyzed_to: datetime | None
    corpus_rows: int

    def as_dict(self) -> dict[str, Any]:
        figures = self.figures
        return {
            "limit": self.limit,
            "articles_read": self.articles_read,
            "n": figures.n,
            "accuracy": figures.accuracy,
            "macro_f1": figures.macro_f1,
            "labels": list(LABELS),
            "per_class": figures.per_class,
            "confusion": figures.confusion,
            "model_versions": self.model_versions,
            "analyzed_from": iso(self.analyzed_from) if self.analyzed_from else None,
            "analyzed_to": iso(self.analyzed_to) if self.analyzed_to else None,
            "corpus": {
                "name": CORPUS_NAME,
                "description": CORPUS_DESCRIPTION,
                "licence": CORPUS_LICENCE,
                "rows": self.corpus_rows,
            },
            "note": None if figures.n else NOTHING_LABELLED,
        }


def measure(
    articles: Sequence[Article], headlines: LabelledHeadlines, *, limit: int
) -> LiveAccuracy:
    """Figures of the analyzed `articles` whose URL names a row of `headlines`."""
    judged: list[tuple[Article, str]] = []
    for article in articles:
        row = row_of_url(article.url)
        headline = headlines.get(row) if row is not None else None
        if headline is not None and article.status == "analyzed" and article.sentiment_label:
            judged.append((article, headline.tone))
    figures = classification_figures((truth, str(a.sentiment_label)) for a, truth in judged)
    moments = [a.analyzed_at for a, _ in judged if a.analyzed_at is not None]
    versions = Counter(a.model_version or "unknown" for a, _ in judged)
    return LiveAccuracy(
        limit=limit,
        articles_read=len(articles),
        figures=figures,
        model_versions=dict(versions.most_common()),
        analyzed_from=min(moments, default=None),
        analyzed_to=max(moments, default=None),
        corpus_rows=len(headlines),
    )


def live_accuracy(articles: RecentArticles, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """The figures over the latest `limit` analyzed articles, as the ops route answers them."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1 to {MAX_LIMIT}")
    latest = articles.latest_by_status("analyzed", limit=limit)
    return measure(latest, labelled_headlines(), limit=limit).as_dict()
