"""The ensemble's properties (hypothesis) and a few worked examples."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.scoring.ensemble import SourceSignal, combine, finnhub_signal, label_for

pytestmark = pytest.mark.unit

SOURCES = ("tiingo", "finnhub", "our_model")
signals = st.one_of(
    st.none(),
    st.builds(
        SourceSignal,
        score=st.floats(-1, 1, allow_nan=False),
        confidence=st.floats(0, 1, allow_nan=False),
        count=st.integers(0, 500),
    ),
)
signal_maps = st.fixed_dictionaries({name: signals for name in SOURCES})


@given(signal_maps)
def test_outputs_are_bounded(signal_map) -> None:
    result = combine(signal_map)
    assert -1.0 <= result.score <= 1.0
    assert 0.0 <= result.confidence <= 1.0
    assert 0.0 <= result.agreement <= 1.0
    assert result.label == label_for(result.score)
    assert set(result.used) | set(result.missing) == set(SOURCES)


@given(signal_maps, st.randoms())
def test_order_of_sources_does_not_matter(signal_map, rnd: random.Random) -> None:
    items = list(signal_map.items())
    rnd.shuffle(items)
    assert combine(dict(items)) == combine(signal_map)


@given(signal_maps, st.sampled_from(SOURCES))
def test_a_missing_source_never_raises_and_is_reported(signal_map, dropped: str) -> None:
    signal_map = {**signal_map, dropped: None}
    result = combine(signal_map)
    assert dropped in result.missing


def test_no_source_is_neutral_with_zero_confidence() -> None:
    result = combine({})
    assert (result.score, result.label, result.confidence) == (0.0, "neutral", 0.0)


def test_agreeing_sources_beat_disagreeing_ones_on_confidence() -> None:
    agree = combine({n: SourceSignal(0.6, 0.9, 10) for n in SOURCES})
    disagree = combine(
        {
            "tiingo": SourceSignal(0.9, 0.9, 10),
            "finnhub": SourceSignal(-0.9, 0.9, 10),
            "our_model": SourceSignal(0.6, 0.9, 10),
        }
    )
    assert agree.score == pytest.approx(0.6)
    assert agree.agreement == pytest.approx(1.0)
    assert disagree.confidence < agree.confidence


def test_confidence_weighted_average_follows_the_formula() -> None:
    # e = 0.3*1.0, 0.3*0.5, 0.4*0.0 -> our_model drops out (confidence 0).
    result = combine(
        {
            "tiingo": SourceSignal(0.8, 1.0, 3),
            "finnhub": SourceSignal(-0.4, 0.5, 3),
            "our_model": SourceSignal(0.9, 0.0, 3),
        }
    )
    expected = (0.3 * 0.8 + 0.15 * -0.4) / 0.45
    assert result.score == pytest.approx(expected)
    assert result.missing == ("our_model",)


def test_finnhub_percentages_map_to_a_signed_score() -> None:
    assert finnhub_signal(0.75, 0.25, 40) == SourceSignal(0.5, 1.0, 40)
    assert finnhub_signal(0.0, 0.0, 0).confidence == 0.0
    assert finnhub_signal(0.2, 0.8, 5).score == pytest.approx(-0.6)


def test_finnhub_null_figures_are_no_signal_not_a_zero_split() -> None:
    assert finnhub_signal(None, None, None) == SourceSignal(0.0, 0.0, 0)
    assert finnhub_signal(0.75, None, 40) == SourceSignal(0.0, 0.0, 40)
    assert finnhub_signal(0.75, 0.25, None).confidence == 0.0
