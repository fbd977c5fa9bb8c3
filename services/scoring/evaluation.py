"""Accuracy, macro-F1, confusion matrix, calibration and throughput of a scorer on labelled
texts.

Calibration: predictions are put in `CALIBRATION_BINS` equal-width bins of confidence; the
expected calibration error (ECE) is the count-weighted mean gap between a bin's mean
confidence and its accuracy. A well-calibrated model that says 0.8 is right 80 % of the time.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from services.scoring.text_model import LABELS

if TYPE_CHECKING:
    from services.settings import ScorerTier

CALIBRATION_BINS = 10


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
    ece: float = 0.0
    # One entry per non-empty bin: low, high, count, mean confidence, accuracy.
    reliability: list[dict[str, float]] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list, repr=False)
    confidences: list[float] = field(default_factory=list, repr=False)


def calibration(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = CALIBRATION_BINS
) -> tuple[float, list[dict[str, float]]]:
    """ECE and the reliability table of predictions with these confidences."""
    confidence = np.asarray(confidences, dtype=float)
    hit = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # The last bin is closed on the right, so a confidence of exactly 1 is counted.
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    table: list[dict[str, float]] = []
    gap = 0.0
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        if count == 0:
            continue
        mean_confidence = float(confidence[members].mean())
        accuracy = float(hit[members].mean())
        gap += count * abs(mean_confidence - accuracy)
        table.append(
            {
                "low": round(float(edges[b]), 2),
                "high": round(float(edges[b + 1]), 2),
                "count": count,
                "confidence": round(mean_confidence, 4),
                "accuracy": round(accuracy, 4),
            }
        )
    return round(gap / max(1, len(confidence)), 4), table


def evaluate(
    model: _Scorer, texts: Sequence[str], labels: Sequence[str], *, batch_size: int = 1000
) -> EvaluationReport:
    predicted: list[str] = []
    confidences: list[float] = []
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        scores = model.score_batch(texts[start : start + batch_size])
        predicted += [str(getattr(s, "label")) for s in scores]  # noqa: B009
        confidences += [float(getattr(s, "confidence")) for s in scores]  # noqa: B009
    elapsed = time.perf_counter() - started
    ece, reliability = calibration(
        confidences, [t == p for t, p in zip(labels, predicted, strict=True)]
    )
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
        ece=ece,
        reliability=reliability,
        predicted=predicted,
        confidences=confidences,
    )


def _rate(tier: ScorerTier, texts: Sequence[str], threshold: float) -> float:
    """Texts per second of one process with one thread, after a warm-up batch."""
    from services.scoring import scorer_for

    scorer = scorer_for(tier, 1, threshold)
    scorer.score_batch(list(texts[:64]))
    started = time.perf_counter()
    for start in range(0, len(texts), 100):
        scorer.score_batch(list(texts[start : start + 100]))
    return len(texts) / (time.perf_counter() - started)


def measure_speed(tier: ScorerTier, texts: Sequence[str], threshold: float) -> dict[str, float]:
    """Texts/s of one core, then of one process per core scoring at once (as separate Lambda
    environments do), each in batches of 100 with one onnxruntime thread."""
    cores = os.cpu_count() or 1
    # Fresh interpreters: a forked copy of a process that already runs onnxruntime's
    # thread pool can hang, and each environment should pay its own model load.
    with ProcessPoolExecutor(max_workers=cores, mp_context=get_context("spawn")) as pool:
        one = pool.submit(_rate, tier, texts, threshold).result()
        runs = [pool.submit(_rate, tier, texts, threshold) for _ in range(cores)]
        together = sum(run.result() for run in runs)
    return {
        "texts_per_s_one_core": round(one, 1),
        "texts_per_s_all_cores": round(together, 1),
        "cores": cores,
    }
