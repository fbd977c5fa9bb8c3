"""A measured alternative that is not shipped: static embeddings distilled from the encoder.

`python -m services.scoring.training.alternatives --encoder DIR` (part of `make model`;
DIR is what `finetune --encoder-out` wrote). model2vec turns the fine-tuned encoder into one
static vector per word piece (numpy-only inference, no attention); a logistic regression over
the mean vectors, fitted on the same training files, makes it a classifier. Its figures go
into `model/alternatives.json`, and from there into the model card, so the choice of the
default tier can be checked against it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from services.scoring.evaluation import load_labelled
from services.scoring.training.card import DATA, DATASETS, MODEL_DIR, report_json
from services.scoring.training.finetune import SOURCES, read
from services.scoring.transformer import prepare

OUT = MODEL_DIR / "alternatives.json"


class StaticTier:
    """Distilled static embeddings and a linear head, behind the scorers' interface."""

    def __init__(self, embedder: Any, head: LogisticRegression) -> None:
        self.embedder = embedder
        self.head = head

    def probabilities(self, texts: Sequence[str]) -> Any:
        return self.head.predict_proba(self.embedder.encode([prepare(t) for t in texts]))

    def score_batch(self, texts: Sequence[str]) -> list[Any]:
        from services.scoring.transformer import scores_from_probabilities

        return scores_from_probabilities(self.probabilities(texts), "model2vec-static")


def build(encoder: Path, pca_dims: int) -> StaticTier:
    from model2vec.distill import distill

    embedder = distill(model_name=str(encoder), pca_dims=pca_dims)
    texts: list[str] = []
    labels: list[int] = []
    for name in SOURCES:
        more_texts, more_labels = read(DATA / name)
        texts += more_texts
        labels += more_labels
    features = embedder.encode([prepare(t) for t in texts])
    head = LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced")
    return StaticTier(embedder, head.fit(features, np.asarray(labels)))


def measure(tier: StaticTier) -> dict[str, Any]:
    from services.scoring.evaluation import evaluate

    results: dict[str, Any] = {}
    for dataset in DATASETS:
        texts, labels = load_labelled(DATA / dataset.file)
        results[dataset.name] = report_json(evaluate(tier, texts, labels))
    speed_texts, _ = load_labelled(DATA / "sent_valid.csv")
    tier.score_batch(speed_texts[:64])
    started = time.perf_counter()
    for start in range(0, len(speed_texts), 100):
        tier.score_batch(speed_texts[start : start + 100])
    results["texts_per_s_one_process"] = round(
        len(speed_texts) / (time.perf_counter() - started), 1
    )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encoder", type=Path, required=True)
    parser.add_argument("--pca-dims", type=int, default=256)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    results = {
        "model2vec_static": {
            "description": f"model2vec static embeddings distilled from the fine-tuned encoder "
            f"(PCA to {args.pca_dims} dimensions), logistic regression head; numpy only",
            **measure(build(args.encoder, args.pca_dims)),
        }
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    for name, figures in results["model2vec_static"].items():
        if isinstance(figures, dict):
            print(f"  {name}: accuracy {figures['accuracy']}, macro-F1 {figures['macro_f1']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
