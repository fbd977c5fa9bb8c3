"""The confidence-weighted ensemble of the per-source sentiment signals of one ticker.

Sources: `tiingo` (our text model over Tiingo's articles), `finnhub` (Finnhub's
bullish/bearish percentages mapped to [-1, 1]) and `our_model` (our text model over every
article). For the sources present (a signal with confidence > 0 and at least one article):

    e_s        = w_s * c_s                                  effective weight
    score      = sum(e_s * x_s) / sum(e_s)                  confidence-weighted average
    dispersion = sqrt(sum(e_s * (x_s - score)^2) / sum(e_s))   in [0, 1] since x_s in [-1, 1]
    agreement  = 1 - dispersion                             1 when all sources agree
    coverage   = sum(w_s, present) / sum(w_s, all)          missing sources lower confidence
    confidence = (sum(e_s) / sum(w_s, present)) * agreement * coverage

Missing sources simply drop out (and are listed); with none present the result is a neutral
score with zero confidence. Sums use `math.fsum`, so the result does not depend on the order
of the sources. Labels: score >= 0.15 positive, <= -0.15 negative, neutral in between.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_WEIGHTS: Mapping[str, float] = {"tiingo": 0.3, "finnhub": 0.3, "our_model": 0.4}
POSITIVE_THRESHOLD = 0.15
NEGATIVE_THRESHOLD = -0.15


@dataclass(frozen=True, slots=True)
class SourceSignal:
    """One source's view of a ticker: score in [-1, 1], confidence in [0, 1], article count."""

    score: float
    confidence: float
    count: int = 1


@dataclass(frozen=True, slots=True)
class EnsembleResult:
    score: float
    label: str
    confidence: float
    agreement: float
    used: tuple[str, ...] = field(default_factory=tuple)
    missing: tuple[str, ...] = field(default_factory=tuple)


def label_for(score: float) -> str:
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def finnhub_signal(
    bullish: float | None, bearish: float | None, articles_in_last_week: int | None
) -> SourceSignal:
    """Finnhub's percentages as a signed score; confidence grows with article volume. A
    percentage Finnhub sent as null (None) is no signal: confidence 0, not a 0/0 split."""
    articles = articles_in_last_week or 0
    if bullish is None or bearish is None:
        return SourceSignal(0.0, 0.0, articles)
    total = bullish + bearish
    score = (bullish - bearish) / total if total > 0 else 0.0
    confidence = min(1.0, articles / 20.0) if total > 0 else 0.0
    return SourceSignal(_clamp(score, -1.0, 1.0), confidence, articles)


def combine(
    signals: Mapping[str, SourceSignal | None],
    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
) -> EnsembleResult:
    every = sorted(set(weights) | set(signals))
    present = {
        name: signal
        for name, signal in signals.items()
        if signal is not None
        and weights.get(name, 0.0) > 0
        and signal.confidence > 0
        and signal.count > 0
        and math.isfinite(signal.score)
        and math.isfinite(signal.confidence)
        # A vanishing confidence can underflow to a zero weight: that source says nothing.
        and weights[name] * min(signal.confidence, 1.0) > 0
    }
    missing = tuple(name for name in every if name not in present)
    if not present:
        return EnsembleResult(0.0, "neutral", 0.0, 0.0, (), missing)
    x = {n: _clamp(s.score, -1.0, 1.0) for n, s in present.items()}
    effective = {n: weights[n] * _clamp(s.confidence, 0.0, 1.0) for n, s in present.items()}
    total_effective = math.fsum(effective.values())
    score = math.fsum(effective[n] * x[n] for n in present) / total_effective
    variance = math.fsum(effective[n] * (x[n] - score) ** 2 for n in present) / total_effective
    agreement = 1.0 - _clamp(math.sqrt(variance), 0.0, 1.0)
    present_weight = math.fsum(weights[n] for n in present)
    all_weight = math.fsum(w for w in weights.values() if w > 0)
    coverage = present_weight / all_weight
    confidence = (total_effective / present_weight) * agreement * coverage
    score = _clamp(score, -1.0, 1.0)
    return EnsembleResult(
        score=score,
        label=label_for(score),
        confidence=_clamp(confidence, 0.0, 1.0),
        agreement=agreement,
        used=tuple(sorted(present)),
        missing=missing,
    )


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
