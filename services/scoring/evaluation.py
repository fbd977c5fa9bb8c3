"""Accuracy, macro-F1, confusion matrix and throughput of a scorer on labelled texts."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from services.scoring.text_model import LABELS


class _Scorer(Protocol):
    def score_batch(self, texts: Sequence[str]) -> Sequence[object]: ...


def load_labelled(path: Path) -> tuple[list[str], list[str]]:
    """Texts and label names of a `text,label` CSV (labels 0, 1, 2 in `LABELS` order)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [LABELS[int(r["label"])] for r in rows]


@dataclass(frozen=True)
class EvaluationReport:
    n: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]  # rows: true label, columns: predicted, in LABELS order
    throughput_per_s: float
    labels: tuple[str, ...] = field(default=LABELS)


def evaluate(
    model: _Scorer, texts: Sequence[str], labels: Sequence[str], *, batch_size: int = 1000
) -> EvaluationReport:
    predicted: list[str] = []
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        scores = model.score_batch(texts[start : start + batch_size])
        predicted += [str(getattr(s, "label")) for s in scores]  # noqa: B009
    elapsed = time.perf_counter() - started
    index = {label: i for i, label in enumerate(LABELS)}
    confusion = np.zeros((len(LABELS), len(LABELS)), dtype=int)
    for truth, guess in zip(labels, predicted, strict=True):
        confusion[index[truth], index[guess]] += 1
    per_class: dict[str, dict[str, float]] = {}
    for label, i in index.items():
        true_positive = confusion[i, i]
        precision = true_positive / max(1, confusion[:, i].sum())
        recall = true_positive / max(1, confusion[i, :].sum())
        f1 = 2 * precision * recall / max(1e-12, precision + recall)
        per_class[label] = {
            "precision": round(float(precision), 4),
            "recall": round(float(recall), 4),
            "f1": round(float(f1), 4),
            "support": int(confusion[i, :].sum()),
        }
    return EvaluationReport(
        n=len(texts),
        accuracy=round(float(np.trace(confusion) / max(1, len(texts))), 4),
        macro_f1=round(float(np.mean([c["f1"] for c in per_class.values()])), 4),
        per_class=per_class,
        confusion=confusion.tolist(),
        throughput_per_s=round(len(texts) / elapsed, 1),
    )
