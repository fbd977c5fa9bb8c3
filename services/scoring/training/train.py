"""Train the text model: `python -m services.scoring.training.train` (needs the `train` extra).

Fits on `data/sent_train.csv` only: the regularisation strength and the softmax temperature
are chosen by 5-fold cross-validation on the training file. `data/sent_valid.csv` is used
once, at the end, to report on the model exactly as stored (float16 weights included).
Writes `services/scoring/model/weights.npz` and `metadata.json`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from services.scoring.evaluation import evaluate
from services.scoring.features import N_FEATURES, featurize, occurrences
from services.scoring.text_model import ARTIFACT, LABELS, METADATA, TextSentimentModel

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
MODEL_DIR = HERE.parent / "model"
C_GRID = (0.5, 1.0, 2.0, 4.0)
TEMPERATURES = tuple(np.round(np.arange(0.1, 1.51, 0.05), 2))


def load(path: Path) -> tuple[list[str], NDArray[np.int64]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], np.asarray([int(r["label"]) for r in rows])


def fit_idf(texts: list[str]) -> tuple[NDArray[np.float32], float]:
    """Smoothed idf per hashed feature, from document frequencies in `texts`."""
    docs, buckets = occurrences(texts)
    pairs = np.unique(docs * N_FEATURES + buckets)
    df = np.bincount(pairs % N_FEATURES, minlength=N_FEATURES)
    n = len(texts)
    idf = np.log((1 + n) / (1 + df)) + 1.0
    return idf.astype(np.float32), float(np.log(1 + n) + 1.0)


def matrix(texts: list[str], idf: NDArray[np.float32]) -> csr_matrix:
    batch = featurize(texts, idf)
    return csr_matrix((batch.values, (batch.rows, batch.cols)), shape=(len(texts), N_FEATURES))


def macro_f1(truth: NDArray[np.int64], predicted: NDArray[np.int64]) -> float:
    scores = []
    for label in range(len(LABELS)):
        tp = np.sum((predicted == label) & (truth == label))
        precision = tp / max(1, np.sum(predicted == label))
        recall = tp / max(1, np.sum(truth == label))
        scores.append(2 * precision * recall / max(1e-12, precision + recall))
    return float(np.mean(scores))


def cross_validate(
    texts: list[str], labels: NDArray[np.int64]
) -> tuple[float, float, dict[str, Any]]:
    """Best C by macro-F1, then the temperature minimising log-loss of out-of-fold decisions."""
    folds = list(StratifiedKFold(5, shuffle=True, random_state=13).split(texts, labels))
    results: dict[str, Any] = {}
    decisions: dict[float, NDArray[np.float64]] = {}
    for c in C_GRID:
        out_of_fold = np.zeros((len(texts), len(LABELS)))
        for train_index, test_index in folds:
            fold_texts = [texts[i] for i in train_index]
            idf, _ = fit_idf(fold_texts)
            model = LinearSVC(C=c, class_weight="balanced").fit(
                matrix(fold_texts, idf), labels[train_index]
            )
            out_of_fold[test_index] = model.decision_function(
                matrix([texts[i] for i in test_index], idf)
            )
        decisions[c] = out_of_fold
        results[str(c)] = round(macro_f1(labels, out_of_fold.argmax(axis=1)), 4)
        print(f"  C={c}: cross-validated macro-F1 {results[str(c)]}", flush=True)
    best_c = max(C_GRID, key=lambda c: results[str(c)])
    offsets = _class_offsets(decisions[best_c], labels)
    shifted = decisions[best_c] + offsets
    results["with_offsets"] = round(macro_f1(labels, shifted.argmax(axis=1)), 4)
    best_t = min(TEMPERATURES, key=lambda t: _log_loss(shifted / t, labels))
    return best_c, float(best_t), {"macro_f1_by_c": results, "offsets": offsets.tolist()}


def _class_offsets(
    decisions: NDArray[np.float64], labels: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Per-class shifts of the decision values that maximise out-of-fold macro-F1.

    Neutral headlines dominate the data; without a shift the rarer negative and positive
    classes lose recall, which is what macro-F1 weighs.
    """
    grid = np.round(np.arange(-0.4, 0.41, 0.05), 2)
    best = (macro_f1(labels, decisions.argmax(axis=1)), 0.0, 0.0)
    for negative in grid:
        for positive in grid:
            shifted = decisions + np.array([negative, positive, 0.0])
            score = macro_f1(labels, shifted.argmax(axis=1))
            if score > best[0]:
                best = (score, float(negative), float(positive))
    return np.array([best[1], best[2], 0.0])


def _log_loss(logits: NDArray[np.float64], labels: NDArray[np.int64]) -> float:
    logits = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-log_probabilities[np.arange(len(labels)), labels].mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    args = parser.parse_args(argv)
    train_texts, train_labels = load(DATA / "sent_train.csv")
    valid_texts, valid_labels = load(DATA / "sent_valid.csv")
    print(f"training on {len(train_texts)} headlines; 5-fold CV over C={C_GRID}", flush=True)
    best_c, temperature, cv = cross_validate(train_texts, train_labels)
    idf, default_idf = fit_idf(train_texts)
    model = LinearSVC(C=best_c, class_weight="balanced").fit(matrix(train_texts, idf), train_labels)
    coef = model.coef_.T.astype(np.float32)  # (features, classes)
    seen = np.flatnonzero(np.abs(coef).sum(axis=1) > 0)
    arrays = {
        "buckets": seen.astype(np.int32),
        "idf": idf[seen].astype(np.float16),
        "weights": coef[seen].astype(np.float16),
        "intercept": (model.intercept_ + np.asarray(cv["offsets"])).astype(np.float32),
        "temperature": np.float32(temperature),
        "default_idf": np.float32(default_idf),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / ARTIFACT, **arrays)
    digest = hashlib.sha256((args.out / ARTIFACT).read_bytes()).hexdigest()[:12]
    version = f"hashed-ngram-svm-{digest}"
    # Report on the model exactly as stored and loaded.
    with np.load(args.out / ARTIFACT) as stored:
        loaded = TextSentimentModel.from_arrays(dict(stored), version)
    label_names = [LABELS[i] for i in valid_labels]
    report = evaluate(loaded, valid_texts, label_names)
    metadata = {
        "version": version,
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training_data": "Twitter Financial News Sentiment (zeroshot), MIT licence; see "
        "services/scoring/training/data/LICENSE-DATA.md",
        "train_size": len(train_texts),
        "hyperparameters": {"C": best_c, "temperature": temperature, "class_weight": "balanced"},
        "cross_validation": cv,
        "validation": {
            "n": report.n,
            "accuracy": report.accuracy,
            "macro_f1": report.macro_f1,
            "per_class": report.per_class,
            "confusion": report.confusion,
            "labels": list(LABELS),
        },
        "artifact_bytes": (args.out / ARTIFACT).stat().st_size,
    }
    (args.out / METADATA).write_text(json.dumps(metadata, indent=2) + "\n")
    print(json.dumps(metadata["validation"], indent=2))
    print(f"throughput {report.throughput_per_s}/s; artifact {metadata['artifact_bytes']} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
