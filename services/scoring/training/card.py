"""The model card: `python -m services.scoring.training.card` (part of `make model`).

Evaluates every tier (linear, transformer, cascade) on the two held-out sets, measures their
speed on one core and on all cores, and writes the figures to `services/scoring/model/
card.json` (served by `GET /api/v2/ops/model`, shown in the workbench) and the readable card
`services/scoring/MODEL_CARD.md`. Nothing here is used to choose or fit a model: both sets are
only reported on.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.scoring import scorer_for
from services.scoring.cascade import CascadeScorer
from services.scoring.evaluation import (
    EvaluationReport,
    evaluate,
    load_labelled,
    measure_speed,
)
from services.scoring.training.card_markdown import reliability_svg, render
from services.scoring.transformer import MODEL_FILE, packaged_folder
from services.settings import ScorerTier, Settings

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
MODEL_DIR = HERE.parent / "model"
CARD_JSON = MODEL_DIR / "card.json"
CARD_MARKDOWN = HERE.parent / "MODEL_CARD.md"
TIERS: tuple[ScorerTier, ...] = ("linear", "transformer", "cascade")
# What analysis runs with unless configured otherwise: the card describes the defaults.
DEFAULT_TIER: ScorerTier = Settings.model_fields["scorer_tier"].default
CASCADE_THRESHOLD: float = Settings.model_fields["cascade_threshold"].default
SPEED_TEXTS = 2000


@dataclass(frozen=True)
class Dataset:
    name: str
    file: str
    description: str
    licence: str


DATASETS = (
    Dataset(
        "sent_valid",
        "sent_valid.csv",
        "Twitter Financial News Sentiment, validation split: 2,388 finance headlines",
        "MIT",
    ),
    Dataset(
        "news_prose",
        "news_prose_test.csv",
        "news-prose sentences written for this project (press-release and news-wire "
        "register), never trained on",
        "MIT (this project)",
    ),
)
TIER_DESCRIPTIONS = {
    "linear": "hashed word and character n-grams, linear SVM, softmax with a fitted temperature",
    "transformer": "all-MiniLM-L6-v2 fine-tuned end to end, mean pooling + linear head, "
    "int8 ONNX (onnxruntime + tokenizers)",
    "cascade": f"linear first; the transformer answers when the linear confidence is below "
    f"{CASCADE_THRESHOLD}",
}
# What the card repeats from the transformer's training metadata: how it was trained.
TRANSFORMER_RECIPE_KEYS = (
    "hyperparameters",
    "epoch_losses",
    "training_minutes",
    "held_out",
    "temperature",
    "artifact_bytes",
    "train_size",
)


def report_json(report: EvaluationReport) -> dict[str, Any]:
    return {
        "n": report.n,
        "accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        "per_class": report.per_class,
        "confusion": report.confusion,
        "labels": list(report.labels),
        "ece": report.ece,
        "reliability": report.reliability,
    }


def cascade_share(texts: Sequence[str]) -> dict[str, float]:
    scorer = scorer_for("cascade", 1, CASCADE_THRESHOLD)
    assert isinstance(scorer, CascadeScorer)
    before = scorer.answered.copy()
    scorer.score_batch(list(texts))
    first = scorer.answered["first"] - before["first"]
    second = scorer.answered["second"] - before["second"]
    total = max(1, first + second)
    return {"linear": round(first / total, 4), "transformer": round(second / total, 4)}


def failure_modes(
    texts: Sequence[str], labels: Sequence[str], report: EvaluationReport, tier: str, limit: int = 8
) -> list[dict[str, Any]]:
    """The default tier's most confident mistakes: what it gets wrong, and how sure it is."""
    wrong = [
        i
        for i, (truth, guess) in enumerate(zip(labels, report.predicted, strict=True))
        if truth != guess
    ]
    wrong.sort(key=lambda i: -report.confidences[i])
    return [
        {
            "text": texts[i],
            "truth": labels[i],
            "predicted": report.predicted[i],
            "confidence": round(report.confidences[i], 3),
            "tier": tier,
        }
        for i in wrong[:limit]
    ]


def side_by_side(texts: Sequence[str], labels: Sequence[str], limit: int = 6) -> list[Any]:
    """The first prose sentences the linear model misreads, and what the default tier says."""
    linear = scorer_for("linear").score_batch(list(texts))
    wrong = [i for i, s in enumerate(linear) if s.label != labels[i]][:limit]
    default = scorer_for(DEFAULT_TIER, 1, CASCADE_THRESHOLD).score_batch([texts[i] for i in wrong])
    return [
        {
            "text": texts[i],
            "truth": labels[i],
            "linear": {"label": linear[i].label, "score": round(linear[i].score, 3)},
            "default": {"label": d.label, "score": round(d.score, 3)},
        }
        for i, d in zip(wrong, default, strict=True)
    ]


def build_card() -> dict[str, Any]:
    transformer_meta = json.loads((packaged_folder() / "metadata.json").read_text())
    linear_meta = json.loads((MODEL_DIR / "metadata.json").read_text())
    evaluations, shares, failures = _evaluate_held_out_sets()
    versions = {
        "linear": linear_meta["version"],
        "transformer": transformer_meta["version"],
        "cascade": f"{linear_meta['version']}+{transformer_meta['version']}",
    }
    tiers = _tier_entries(versions, shares)
    return {
        "version": transformer_meta["version"] if DEFAULT_TIER != "linear" else versions["linear"],
        "default_tier": DEFAULT_TIER,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tiers": tiers,
        "evaluations": evaluations,
        "training_data": [
            {**source, "licence": "MIT"} for source in transformer_meta["training_data"]
        ],
        "base_model": transformer_meta["base_model"],
        "transformer": {key: transformer_meta[key] for key in TRANSFORMER_RECIPE_KEYS},
        "artifact_bytes": {
            "transformer": (packaged_folder() / MODEL_FILE).stat().st_size,
            "linear": linear_meta["artifact_bytes"],
        },
        "failure_modes": failures,
        "linear_misreads": side_by_side(*load_labelled(DATA / "news_prose_test.csv")),
        "alternatives": _alternatives(),
    }


def _evaluate_held_out_sets() -> tuple[
    dict[str, Any], dict[str, dict[str, float]], list[dict[str, Any]]
]:
    """Every tier on every held-out set, the cascade's split on each, and the default tier's
    most confident mistakes; one progress line per set."""
    evaluations: dict[str, Any] = {}
    shares: dict[str, dict[str, float]] = {}
    failures: list[dict[str, Any]] = []
    for dataset in DATASETS:
        texts, labels = load_labelled(DATA / dataset.file)
        by_tier = {}
        for tier in TIERS:
            report = evaluate(scorer_for(tier, 1, CASCADE_THRESHOLD), texts, labels)
            by_tier[tier] = report_json(report)
            if tier == DEFAULT_TIER:
                failures += failure_modes(
                    texts, labels, report, tier, 8 if dataset.name == "news_prose" else 4
                )
        evaluations[dataset.name] = {
            "description": dataset.description,
            "licence": dataset.licence,
            "by_tier": by_tier,
        }
        shares[dataset.name] = cascade_share(texts)
        print(
            f"  {dataset.name}: "
            + ", ".join(f"{t} {r['accuracy']:.3f}/{r['macro_f1']:.3f}" for t, r in by_tier.items()),
            flush=True,
        )
    return evaluations, shares, failures


def _tier_entries(
    versions: dict[str, str], shares: dict[str, dict[str, float]]
) -> dict[str, dict[str, Any]]:
    """Each tier's description, version, speed on the first sent_valid headlines, and which
    tier answers its texts (the cascade's split measured per set)."""
    speed_texts, _ = load_labelled(DATA / "sent_valid.csv")
    speed_texts = speed_texts[:SPEED_TEXTS]
    return {
        tier: {
            "description": TIER_DESCRIPTIONS[tier],
            "version": versions[tier],
            **measure_speed(tier, speed_texts, CASCADE_THRESHOLD),
            "share_answered": {tier: 1.0} if tier != "cascade" else shares["news_prose"],
            "share_answered_by_dataset": shares if tier == "cascade" else {},
        }
        for tier in TIERS
    }


def _alternatives() -> dict[str, Any]:
    """What `alternatives.py` measured (not shipped), if it ran."""
    path = MODEL_DIR / "alternatives.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=CARD_JSON)
    parser.add_argument("--markdown", type=Path, default=CARD_MARKDOWN)
    args = parser.parse_args(argv)
    card = build_card()
    args.out.write_text(json.dumps(card, indent=2) + "\n")
    args.markdown.write_text(render(card))
    (MODEL_DIR / "reliability.svg").write_text(reliability_svg(card))
    print(f"wrote {args.out.name} and {args.markdown.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
