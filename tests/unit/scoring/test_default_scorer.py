"""The scorer analysis uses: its budgets on both held-out sets, its output contract, the
news-prose sentences the linear model gets wrong, the cascade's routing, and lazy imports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from services.scoring import default_scorer, scorer_for
from services.scoring.cascade import CascadeScorer
from services.scoring.evaluation import EvaluationReport, calibration, evaluate, load_labelled
from services.scoring.text_model import LABELS, SentimentScore, TextSentimentModel
from services.scoring.transformer import TransformerSentimentModel, packaged_folder, prepare
from services.settings import Settings
from tests.unit.support.imports import modules_loaded

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "services" / "scoring" / "training" / "data"
BUDGETS = {"sent_valid.csv": (0.87, 0.82), "news_prose_test.csv": (0.82, 0.75)}
MIXED = [
    "Short.",
    "Gross margin narrowed to 31.4 percent from 35.0 percent in the prior-year quarter.",
    "The plant will be closed and about 300 employees will lose their jobs.",
]


@cache
def report(dataset: str) -> EvaluationReport:
    texts, labels = load_labelled(DATA / dataset)
    return evaluate(default_scorer(Settings()), texts, labels, batch_size=500)


def test_the_default_tier_is_the_cascade_and_each_tier_can_be_chosen() -> None:
    assert isinstance(default_scorer(Settings()), CascadeScorer)
    assert default_scorer(Settings(scorer_tier="linear")) is TextSentimentModel.load()
    assert isinstance(
        default_scorer(Settings(scorer_tier="transformer")), TransformerSentimentModel
    )


@pytest.mark.parametrize("dataset", sorted(BUDGETS))
def test_default_scorer_meets_its_accuracy_budget(dataset: str) -> None:
    assert report(dataset).accuracy >= BUDGETS[dataset][0]


@pytest.mark.parametrize("dataset", sorted(BUDGETS))
def test_default_scorer_meets_its_macro_f1_budget(dataset: str) -> None:
    assert report(dataset).macro_f1 >= BUDGETS[dataset][1]


def test_news_prose_is_where_the_linear_model_falls_short() -> None:
    texts, labels = load_labelled(DATA / "news_prose_test.csv")
    linear = evaluate(TextSentimentModel.load(), texts, labels)
    assert linear.macro_f1 < report("news_prose_test.csv").macro_f1 - 0.1


def test_most_prose_the_linear_model_misreads_is_read_right() -> None:
    texts, labels = load_labelled(DATA / "news_prose_test.csv")
    linear = TextSentimentModel.load().score_batch(texts)
    missed = [i for i, s in enumerate(linear) if s.label != labels[i]]
    repaired = default_scorer(Settings()).score_batch([texts[i] for i in missed])
    right = sum(s.label == labels[i] for i, s in zip(missed, repaired, strict=True))
    assert len(missed) > 50
    assert right / len(missed) >= 0.6


def test_scores_are_bounded_and_carry_the_model_version() -> None:
    model = TransformerSentimentModel.load()
    metadata = json.loads((packaged_folder() / "metadata.json").read_text())
    odd = ["", "   ", "a\x00b", "x" * 5000, "Émission: ça baisse de 3% €", "Shares jump"]
    for score in model.score_batch(odd):
        assert -1.0 <= score.score <= 1.0
        assert 1 / 3 - 1e-6 <= score.confidence <= 1.0
        assert score.label in LABELS
        assert score.model_version == metadata["version"]


def test_a_batch_scores_each_text_as_it_would_alone() -> None:
    model = TransformerSentimentModel.load()
    texts = [*MIXED, "A much longer sentence " * 20, "Profit rose."]
    together = model.score_batch(texts)
    for text, batched in zip(texts, together, strict=True):
        alone = model.score(text)
        assert alone.label == batched.label
        assert alone.score == pytest.approx(batched.score, abs=1e-4)
    assert model.score_batch([]) == []


def test_links_and_spacing_do_not_change_what_the_encoder_reads() -> None:
    assert prepare("Shares rise https://t.co/abc\n\tnow ") == "Shares rise now"


@dataclass
class _Recording:
    """Sure (0.95) of texts containing "sure", unsure (0.5) of the rest; keeps what it saw."""

    version: str
    seen: list[str] = field(default_factory=list)

    def score_batch(self, texts: Sequence[str]) -> list[SentimentScore]:
        self.seen += texts
        return [
            SentimentScore(0.0, "neutral", 0.95 if "sure" in t else 0.5, self.version)
            for t in texts
        ]


def test_the_cascade_sends_only_unsure_texts_to_the_second_tier() -> None:
    second = _Recording("second")
    cascade = CascadeScorer(_Recording("first"), second, threshold=0.9)
    scores = cascade.score_batch(["sure a", "maybe b", "sure c", "maybe d"])
    assert [s.model_version for s in scores] == ["first", "second", "first", "second"]
    assert second.seen == ["maybe b", "maybe d"]
    assert cascade.answered == {"first": 2, "second": 2}


def test_the_cascade_tier_is_built_from_both_models() -> None:
    cascade = scorer_for("cascade", 1, 0.9)
    assert isinstance(cascade, CascadeScorer)
    assert cascade.first is TextSentimentModel.load()
    assert isinstance(cascade.second, TransformerSentimentModel)


def test_calibration_of_a_perfectly_calibrated_predictor_is_zero() -> None:
    ece, table = calibration([0.75] * 4 + [1.0] * 2, [True, True, True, False, True, True])
    assert ece == 0.0
    assert [(b["low"], b["count"]) for b in table] == [(0.7, 4), (0.9, 2)]
    worse, _ = calibration([0.9] * 4, [True, False, False, False])
    assert worse == pytest.approx(0.65)


def test_the_model_card_describes_the_committed_model() -> None:
    card = json.loads((ROOT / "services" / "scoring" / "model" / "card.json").read_text())
    metadata = json.loads((packaged_folder() / "metadata.json").read_text())
    assert card["tiers"]["transformer"]["version"] == metadata["version"]
    assert card["default_tier"] == Settings().scorer_tier
    recorded = card["evaluations"]["news_prose"]["by_tier"][card["default_tier"]]
    assert recorded["accuracy"] == report("news_prose_test.csv").accuracy
    assert recorded["confusion"] == report("news_prose_test.csv").confusion


def test_importing_scoring_loads_no_model_runtime() -> None:
    imports = "import services.scoring, services.scoring.ensemble, services.functions.dashboard"
    runtimes = ("onnxruntime", "tokenizers", "torch", "sklearn")
    assert modules_loaded(imports, runtimes) == []
