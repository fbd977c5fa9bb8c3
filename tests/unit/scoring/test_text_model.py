"""The packaged text sentiment model: output contract, batching, budgets, run-time imports."""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from services.scoring.evaluation import EvaluationReport, evaluate
from services.scoring.features import N_FEATURES, featurize
from services.scoring.text_model import LABELS, METADATA, TextSentimentModel
from tests.unit.support.imports import modules_loaded

pytestmark = pytest.mark.unit

SCORING = Path(__file__).resolve().parents[3] / "services" / "scoring"
VALID_CSV = SCORING / "training" / "data" / "sent_valid.csv"
# The linear model's own floor; the default scorer's budgets are in test_default_scorer.py.
ACCURACY_BUDGET = 0.85

HEADLINES = [
    "Company beats earnings estimates and raises guidance",
    "Shares plunge after company cuts outlook",
    "$XYZ - Board schedules annual shareholder meeting https://t.co/abc123",
    "Stocks rise 2.5% as the Fed holds rates",
    "",
    "   ",
    "Émission obligataire: ça baisse de 3% €",
    "Multi-line\nheadline\twith tabs",
    "a\x00b NUL inside",
    "x" * 2000,
]


@cache
def validation_report() -> EvaluationReport:
    with VALID_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [row["text"] for row in rows]
    labels = [LABELS[int(row["label"])] for row in rows]
    return evaluate(TextSentimentModel.load(), texts, labels, batch_size=1000)


def test_scores_are_bounded_and_labels_known() -> None:
    for result in TextSentimentModel.load().score_batch(HEADLINES):
        assert -1.0 <= result.score <= 1.0
        assert 0.0 <= result.confidence <= 1.0
        assert result.label in LABELS


def test_batch_scoring_equals_scoring_one_by_one() -> None:
    model = TextSentimentModel.load()
    batch = model.score_batch(HEADLINES)
    assert len(batch) == len(HEADLINES)
    for text, together in zip(HEADLINES, batch, strict=True):
        alone = model.score(text)
        assert alone.label == together.label
        assert alone.score == pytest.approx(together.score, abs=1e-6)
        assert alone.confidence == pytest.approx(together.confidence, abs=1e-6)


def test_empty_batch_returns_empty_list() -> None:
    assert TextSentimentModel.load().score_batch([]) == []


def test_clear_headlines_get_the_right_sign() -> None:
    model = TextSentimentModel.load()
    assert model.score("Company beats earnings estimates and raises guidance").score > 0
    assert model.score("Shares plunge after company cuts outlook").score < 0
    assert model.score("Analyst upgrades the stock to buy, shares jump").score > 0
    assert model.score("Company misses revenue forecast; stock falls").score < 0


def test_features_are_deduplicated_sorted_and_normalised_per_block() -> None:
    batch = featurize(["up up up", "", "down and down"])
    keys = batch.rows * N_FEATURES + batch.cols
    assert np.all(np.diff(keys) > 0)
    assert set(batch.rows.tolist()) == {0, 2}
    for doc in (0, 2):
        for in_char_block in (False, True):
            mask = (batch.rows == doc) & ((batch.cols >= N_FEATURES // 2) == in_char_block)
            assert float(np.sum(batch.values[mask] ** 2)) == pytest.approx(1.0)


def test_nul_bytes_do_not_leak_features_into_other_documents() -> None:
    batch = featurize(["a\x00b", "c"])
    assert batch.n_docs == 2
    assert set(batch.rows.tolist()) == {0, 1}


def test_committed_model_meets_the_accuracy_budget() -> None:
    assert validation_report().accuracy >= ACCURACY_BUDGET


def test_committed_model_reproduces_its_recorded_validation() -> None:
    recorded = json.loads((SCORING / "model" / METADATA).read_text())["validation"]
    report = validation_report()
    assert report.n == recorded["n"]
    assert report.accuracy == recorded["accuracy"]
    assert report.macro_f1 == recorded["macro_f1"]
    assert report.confusion == recorded["confusion"]


def test_metadata_version_matches_loaded_model() -> None:
    metadata = json.loads((SCORING / "model" / METADATA).read_text())
    assert metadata["version"] == TextSentimentModel.load().version


def test_importing_the_model_loads_neither_sklearn_nor_scipy() -> None:
    use = (
        "import services.scoring.text_model as m\nm.TextSentimentModel.load().score('Shares rise')"
    )
    assert modules_loaded(use, ("sklearn", "scipy")) == []
