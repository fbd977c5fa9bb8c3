"""Ticker relevance: where and how often a company is named in a story."""

from __future__ import annotations

import pytest

from services.analysis.buckets import relevance_of
from services.market.universe import TickerUniverse
from services.scoring.relevance import (
    DESCRIPTION_CAP,
    HEADLINE,
    LISTED,
    Mentions,
    RelevanceScorer,
    aliases,
)

pytestmark = pytest.mark.unit

UNIVERSE = TickerUniverse.load()


def ticker_aliases(symbol: str) -> tuple[str, ...]:
    found = UNIVERSE.get(symbol)
    assert found is not None
    return aliases(found)


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("AAPL", {"Apple Inc.", "Apple"}),
        ("META", {"Meta Platforms Inc.", "Meta Platforms", "Meta"}),
        ("AMZN", {"Amazon.com Inc.", "Amazon.com", "Amazon"}),
        ("LLY", {"Eli Lilly and Company", "Eli Lilly"}),
        ("GOOG", {"Alphabet Inc. Class C", "Alphabet"}),
    ],
)
def test_aliases_drop_legal_suffixes_and_descriptors(symbol: str, expected: set[str]) -> None:
    assert set(ticker_aliases(symbol)) == expected


def test_aliases_never_reduce_a_name_to_a_generic_word() -> None:
    # "General Motors" must not become "General", nor "Applied Materials" "Applied".
    assert "General" not in ticker_aliases("GM")
    assert "Applied" not in ticker_aliases("AMAT")


def test_headline_about_the_company_is_highly_relevant_a_passing_mention_is_not() -> None:
    # Given a story about Apple that compares the move with Microsoft in its last sentence
    scorer = RelevanceScorer(UNIVERSE)
    found = scorer.score(
        ("AAPL", "MSFT"),
        "Apple beats quarterly estimates as revenue climbs 9%",
        "Apple Inc. (AAPL) delivered results ahead of analyst forecasts. Investors also "
        "compared the move with Microsoft Corporation (MSFT).",
    )
    # Then Apple is named in the headline and twice in the body; Microsoft twice in the body
    assert found["AAPL"] == pytest.approx(LISTED + HEADLINE + 0.25)
    assert found["MSFT"] == pytest.approx(LISTED + 0.25)
    assert found["AAPL"] > 2 * found["MSFT"]


def test_a_ticker_only_listed_weighs_the_floor() -> None:
    scorer = RelevanceScorer(UNIVERSE)
    found = scorer.score(("NVDA",), "Apple beats estimates", "Apple shares rose.")
    assert found == {"NVDA": LISTED}


def test_symbols_and_cashtags_count_lowercase_words_do_not() -> None:
    scorer = RelevanceScorer(UNIVERSE)
    assert scorer.mentions("AAPL", "$AAPL rallies", "").headline == 1
    assert scorer.mentions("AAPL", "apple pie prices rise", "").headline == 0
    assert scorer.mentions("NVDA", "Nvidia and NVIDIA Corporation", "").headline == 2
    assert scorer.mentions("V", "Travel visa rules change", "").headline == 0


def test_symbols_inside_other_names_are_not_mentions() -> None:
    scorer = RelevanceScorer(UNIVERSE)
    # AT&T's ampersand, a share class letter and part of a word are not the symbols T, C, MS.
    assert scorer.mentions("T", "AT&T results", "").headline == 1  # by its name
    assert scorer.mentions("C", "Alphabet Inc. Class C gains", "").headline == 0
    assert scorer.mentions("MS", "MSFT and Microsoft", "").headline == 0
    assert scorer.mentions("C", "C plunges after guidance", "").headline == 1


def test_unknown_symbols_are_matched_by_symbol_alone() -> None:
    scorer = RelevanceScorer(UNIVERSE)
    assert scorer.score(("ZZZZ",), "ZZZZ soars", "") == {"ZZZZ": LISTED + HEADLINE}


@pytest.mark.parametrize(
    ("headline", "description", "expected"),
    [
        (0, 0, LISTED),
        (1, 0, LISTED + HEADLINE),
        (0, 1, LISTED + 0.15),
        (0, 2, LISTED + 0.25),
        (0, 9, LISTED + DESCRIPTION_CAP),
        (3, 9, 1.0),
    ],
)
def test_relevance_grows_with_mentions_and_stays_in_unit_interval(
    headline: int, description: int, expected: float
) -> None:
    assert Mentions(headline, description).relevance == pytest.approx(expected)


def test_missing_relevance_counts_fully_and_stored_values_are_clamped() -> None:
    assert relevance_of(None, "AAPL") == 1.0
    assert relevance_of({"MSFT": 0.1}, "AAPL") == 1.0
    assert relevance_of({"AAPL": 0.35}, "AAPL") == 0.35
    assert relevance_of({"AAPL": 7.0}, "AAPL") == 1.0
