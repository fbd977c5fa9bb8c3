"""Our text sentiment model: a linear classifier over hashed n-grams, numpy-only at run time.

Decision rule: three classes (negative, positive, neutral) with probabilities from a
softmax over the classifier's calibrated decision values. The signed score is
P(positive) - P(negative), in [-1, 1]; the label is the most probable class; the
confidence is that class's probability, in [1/3, 1]. The weights are trained by
`services/scoring/training/train.py` and loaded once per process.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from services.scoring.features import N_FEATURES, featurize

LABELS = ("negative", "positive", "neutral")  # the training data's class order 0, 1, 2
ARTIFACT = "weights.npz"
METADATA = "metadata.json"


@dataclass(frozen=True, slots=True)
class SentimentScore:
    score: float
    label: str
    confidence: float
    model_version: str


class TextSentimentModel:
    def __init__(
        self,
        *,
        weights: NDArray[np.float32],
        intercept: NDArray[np.float32],
        temperature: float,
        version: str,
    ) -> None:
        self.weights = weights
        self.intercept = intercept
        self.temperature = temperature
        self.version = version

    @classmethod
    def from_arrays(cls, arrays: dict[str, Any], version: str) -> TextSentimentModel:
        """Expand the stored sparse rows (only buckets seen in training) into a dense table."""
        buckets = arrays["buckets"].astype(np.int64)
        weights = np.zeros((N_FEATURES, len(LABELS)), dtype=np.float32)
        weights[buckets] = arrays["weights"].astype(np.float32)
        return cls(
            weights=weights,
            intercept=arrays["intercept"].astype(np.float32),
            temperature=float(arrays["temperature"]),
            version=version,
        )

    @classmethod
    def load(cls) -> TextSentimentModel:
        return _load_packaged()

    def probabilities(self, texts: Sequence[str]) -> NDArray[np.float64]:
        batch = featurize(texts)
        contributions = self.weights[batch.cols] * batch.values[:, None]
        decision = np.stack(
            [
                np.bincount(batch.rows, weights=contributions[:, c], minlength=batch.n_docs)
                for c in range(len(LABELS))
            ],
            axis=1,
        )
        logits = (decision + self.intercept) / self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probabilities: NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
        return probabilities

    def score_batch(self, texts: Sequence[str]) -> list[SentimentScore]:
        if not texts:
            return []
        probabilities = self.probabilities(texts)
        best = probabilities.argmax(axis=1)
        scores = probabilities[:, 1] - probabilities[:, 0]
        return [
            SentimentScore(
                score=float(np.clip(scores[i], -1.0, 1.0)),
                label=LABELS[int(best[i])],
                confidence=float(probabilities[i, best[i]]),
                model_version=self.version,
            )
            for i in range(len(texts))
        ]

    def score(self, text: str) -> SentimentScore:
        return self.score_batch([text])[0]


@cache
def _load_packaged() -> TextSentimentModel:
    folder = resources.files("services.scoring") / "model"
    metadata = json.loads((folder / METADATA).read_text())
    with resources.as_file(folder / ARTIFACT) as path, np.load(path) as arrays:
        return TextSentimentModel.from_arrays(dict(arrays), str(metadata["version"]))
