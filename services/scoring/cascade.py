"""Two tiers: a fast model answers the texts it is sure of, a slower one the rest.

A text goes to the second tier when the first tier's confidence (the probability of its
likeliest class) is below `threshold`. Each score keeps the `model_version` of the tier that
answered, so what is stored says which model spoke; `answered` counts texts per tier.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from threading import Lock
from typing import Protocol

from services.scoring.text_model import SentimentScore


class Scorer(Protocol):
    def score_batch(self, texts: Sequence[str]) -> list[SentimentScore]: ...


@dataclass
class CascadeScorer:
    first: Scorer
    second: Scorer
    threshold: float
    answered: Counter[str] = field(default_factory=Counter)
    _lock: Lock = field(default_factory=Lock)

    def score_batch(self, texts: Sequence[str]) -> list[SentimentScore]:
        scores = list(self.first.score_batch(texts))
        unsure = [i for i, s in enumerate(scores) if s.confidence < self.threshold]
        if unsure:
            for i, second in zip(
                unsure, self.second.score_batch([texts[i] for i in unsure]), strict=True
            ):
                scores[i] = second
        with self._lock:
            self.answered["first"] += len(texts) - len(unsure)
            self.answered["second"] += len(unsure)
        return scores

    def score(self, text: str) -> SentimentScore:
        return self.score_batch([text])[0]
