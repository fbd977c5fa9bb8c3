"""Train the text model: `python -m services.scoring.training.train` (needs the `train` extra).

Fits on `data/sent_train.csv` only. The regularisation strength, whether to shift the class
decision values, and the softmax temperature are all chosen by repeated stratified 5-fold
cross-validation on the training file. `data/sent_valid.csv` is used once, at the end, to
report on the model exactly as stored (float16 weights included).
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
from joblib import Parallel, delayed
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from services.scoring import features
from services.scoring.evaluation import evaluate
from services.scoring.features import N_FEATURES, featurize
from services.scoring.text_model import ARTIFACT, LABELS, METADATA, TextSentimentModel

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
MODEL_DIR = HERE.parent / "model"
C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0)
# One 5-fold split alone moves macro-F1 by about +-0.007, more than the differences
# between neighbouring settings; averaging three shuffles steadies the choice.
CV_SEEDS = (13, 1, 2)
OFFSET_GRID = tuple(np.round(np.arange(-0.3, 0.31, 0.05), 2))
TEMPERATURES = tuple(np.round(np.arange(0.1, 1.51, 0.05), 2))

Folds = list[tuple[NDArray[np.int64], NDArray[np.int64]]]


def load(path: Path) -> tuple[list[str], NDArray[np.int64]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], np.asarray([int(r["label"]) for r in rows])


def matrix(texts: list[str]) -> csr_matrix:
    batch = featurize(texts)
    return csr_matrix((batch.values, (batch.rows, batch.cols)), shape=(len(texts), N_FEATURES))


def classifier(c: float) -> LinearSVC:
    return LinearSVC(C=c, class_weight="balanced")


def macro_f1(truth: NDArray[np.int64], predicted: NDArray[np.int64]) -> float:
    scores = []
    for label in range(len(LABELS)):
        tp = np.sum((predicted == label) & (truth == label))
        precision = tp / max(1, np.sum(predicted == label))
        recall = tp / max(1, np.sum(truth == label))
        scores.append(2 * precision * recall / max(1e-12, precision + recall))
    return float(np.mean(scores))


def _fold_decisions(
    x: csr_matrix,
    labels: NDArray[np.int64],
    train: NDArray[np.int64],
    test: NDArray[np.int64],
    c: float,
) -> NDArray[np.float64]:
    model = classifier(c).fit(x[train], labels[train])
    decisions: NDArray[np.float64] = model.decision_function(x[test])
    return decisions


def out_of_fold(
    x: csr_matrix, labels: NDArray[np.int64], splits: list[Folds], c: float
) -> list[NDArray[np.float64]]:
    """Out-of-fold decision values, one (n, classes) array per repetition of the split."""
    jobs = [(r, train, test) for r, folds in enumerate(splits) for train, test in folds]
    fitted = Parallel(n_jobs=2)(
        delayed(_fold_decisions)(x, labels, train, test, c) for _, train, test in jobs
    )
    results = [np.zeros((x.shape[0], len(LABELS))) for _ in splits]
    for (r, _, test), decisions in zip(jobs, fitted, strict=True):
        results[r][test] = decisions
    return results


def cross_validate(
    texts: list[str], labels: NDArray[np.int64]
) -> tuple[float, NDArray[np.float64], float, dict[str, Any]]:
    """Best C by mean out-of-fold macro-F1; class offsets if they pay off; then temperature."""
    x = matrix(texts)
    splits: list[Folds] = [
        list(StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, labels))
        for seed in CV_SEEDS
    ]
    by_c: dict[str, Any] = {}
    decisions: dict[float, list[NDArray[np.float64]]] = {}
    for c in C_GRID:
        decisions[c] = out_of_fold(x, labels, splits, c)
        f1 = [macro_f1(labels, d.argmax(axis=1)) for d in decisions[c]]
        accuracy = [float(np.mean(d.argmax(axis=1) == labels)) for d in decisions[c]]
        by_c[str(c)] = {
            "macro_f1": round(float(np.mean(f1)), 4),
            "macro_f1_std": round(float(np.std(f1)), 4),
            "accuracy": round(float(np.mean(accuracy)), 4),
        }
        print(f"  C={c}: {by_c[str(c)]}", flush=True)
    best_c = max(C_GRID, key=lambda c: by_c[str(c)]["macro_f1"])
    chosen = decisions[best_c]
    offsets = _class_offsets(chosen, labels)
    raw, nested = _offsets_nested(chosen, labels, splits)
    gains = nested - raw
    # Offsets chosen on the very predictions they are scored on always look better. They
    # are kept only if offsets chosen on four folds also help on the fifth, by more than
    # one standard error across the repetitions: otherwise the simpler rule (argmax) wins.
    standard_error = float(np.std(gains, ddof=1) / np.sqrt(len(gains)))
    keep_offsets = bool(np.mean(gains) > standard_error)
    if not keep_offsets:
        offsets = np.zeros(len(LABELS))
    shifted = np.concatenate([d + offsets for d in chosen])
    repeated = np.tile(labels, len(chosen))
    best_t = min(TEMPERATURES, key=lambda t: _log_loss(shifted / t, repeated))
    report = {
        "folds": 5,
        "repeats": len(CV_SEEDS),
        "by_c": by_c,
        "best_c": best_c,
        "offsets_nested_macro_f1": {
            "without": round(float(np.mean(raw)), 4),
            "with": round(float(np.mean(nested)), 4),
            "gain_standard_error": round(standard_error, 4),
        },
        "offsets_kept": keep_offsets,
        "offsets": offsets.tolist(),
        "macro_f1": round(
            float(np.mean([macro_f1(labels, (d + offsets).argmax(1)) for d in chosen])), 4
        ),
        "temperature_log_loss": round(_log_loss(shifted / best_t, repeated), 4),
    }
    return best_c, offsets, float(best_t), report


def _class_offsets(
    decisions: list[NDArray[np.float64]], labels: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Shifts of the negative and positive decision values maximising mean macro-F1.

    Neutral headlines dominate the data; a shift can win back recall of the rarer negative
    and positive classes, which is what macro-F1 weighs.
    """
    best = (np.mean([macro_f1(labels, d.argmax(axis=1)) for d in decisions]), 0.0, 0.0)
    for negative in OFFSET_GRID:
        for positive in OFFSET_GRID:
            shift = np.array([negative, positive, 0.0])
            score = np.mean([macro_f1(labels, (d + shift).argmax(axis=1)) for d in decisions])
            if score > best[0]:
                best = (score, float(negative), float(positive))
    return np.array([best[1], best[2], 0.0])


def _offsets_nested(
    decisions: list[NDArray[np.float64]], labels: NDArray[np.int64], splits: list[Folds]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Macro-F1 per repetition without offsets, and with offsets chosen on the other folds."""
    raw, nested = [], []
    for d, folds in zip(decisions, splits, strict=True):
        predicted = np.zeros(len(labels), dtype=np.int64)
        for train, test in folds:
            shift = _class_offsets([d[train]], labels[train])
            predicted[test] = (d[test] + shift).argmax(axis=1)
        raw.append(macro_f1(labels, d.argmax(axis=1)))
        nested.append(macro_f1(labels, predicted))
    return np.asarray(raw), np.asarray(nested)


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
    print(
        f"training on {len(train_texts)} headlines; {len(CV_SEEDS)}x5-fold CV over C={C_GRID}",
        flush=True,
    )
    best_c, offsets, temperature, cv = cross_validate(train_texts, train_labels)
    model = classifier(best_c).fit(matrix(train_texts), train_labels)
    arrays = stored_arrays(model, offsets, temperature)
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
        "features": feature_recipe(),
        "hyperparameters": {
            "C": best_c,
            "temperature": temperature,
            "class_weight": "balanced",
            "classifier": "LinearSVC (one-vs-rest, squared hinge)",
        },
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
        "seen_buckets": len(arrays["buckets"]),
    }
    (args.out / METADATA).write_text(json.dumps(metadata, indent=2) + "\n")
    print(json.dumps(metadata["validation"], indent=2))
    print(f"throughput {report.throughput_per_s}/s; artifact {metadata['artifact_bytes']} bytes")
    return 0


def stored_arrays(
    model: LinearSVC, offsets: NDArray[np.float64], temperature: float
) -> dict[str, Any]:
    """What the artifact keeps: the weights of the hash buckets any training text reached
    (float16), the intercepts with the class offsets added, and the temperature."""
    coef = model.coef_.T.astype(np.float32)  # (features, classes)
    seen = np.flatnonzero(np.abs(coef).sum(axis=1) > 0)
    return {
        "buckets": seen.astype(np.int32),
        "weights": coef[seen].astype(np.float16),
        "intercept": (model.intercept_ + offsets).astype(np.float32),
        "temperature": np.float32(temperature),
    }


def feature_recipe() -> dict[str, Any]:
    """How a text becomes features, as the metadata records it."""
    return {
        "word_ngrams": list(features.WORD_NGRAMS),
        "char_ngrams": list(features.CHAR_NGRAMS),
        "hash_bits_per_block": features.BLOCK_BITS,
        "tf": "1 + log(count)",
        "idf": None,
        "norm": "l2 per document and block",
    }


if __name__ == "__main__":
    raise SystemExit(main())
