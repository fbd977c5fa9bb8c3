"""Sentiment scoring: the text models, their tiers and the ensemble of sources.

`default_scorer()` is what analysis scores articles with. It imports the model runtime
(onnxruntime, tokenizers) on first call only, so the functions that merely read scores
(the dashboard) never load it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.scoring.cascade import Scorer
    from services.settings import ScorerTier, Settings


def default_scorer(settings: Settings | None = None) -> Scorer:
    """The scorer the settings choose (`SCORER_TIER`), loaded once per process."""
    from services.settings import get_settings

    settings = settings or get_settings()
    return scorer_for(settings.scorer_tier, settings.scorer_threads, settings.cascade_threshold)


@cache
def scorer_for(tier: ScorerTier, threads: int = 1, threshold: float = 0.85) -> Scorer:
    from services.scoring.cascade import CascadeScorer
    from services.scoring.text_model import TextSentimentModel
    from services.scoring.transformer import TransformerSentimentModel

    if tier == "linear":
        return TextSentimentModel.load()
    if tier == "transformer":
        return TransformerSentimentModel.load(threads)
    return CascadeScorer(
        TextSentimentModel.load(), TransformerSentimentModel.load(threads), threshold
    )
