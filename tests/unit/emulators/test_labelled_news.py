"""The emulated news are real headlines with known labels: rendered for the story's company,
chosen by the story's tone from its seeded draw, and traceable from the URL alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.local.emulators.headlines import (
    CORPUS_FILE,
    CorpusMissingError,
    labelled_headlines,
    read_labelled_headlines,
    render_title,
    row_of_url,
)
from services.local.emulators.world import NewsWorld, Story
from services.market.universe import TickerUniverse
from services.scoring.text_model import LABELS

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
TICKERS = ["AAPL", "MSFT", "JPM", "NVDA"]


def week_of_news(seed: int) -> list[Story]:
    return NewsWorld(seed=seed, clock=lambda: NOW).stories(TICKERS, NOW - timedelta(days=7), NOW)


# --- rendering a headline for a company ------------------------------------------------------


def test_every_cashtag_becomes_the_companys_and_a_run_of_them_one() -> None:
    assert render_title("$ALLY - Ally Financial pulls outlook", "AAPL") == (
        "$AAPL - Ally Financial pulls outlook"
    )
    assert render_title("$DELL $HPE - Dell, HPE targets trimmed", "msft") == (
        "$MSFT - Dell, HPE targets trimmed"
    )
    assert (
        render_title("$SAN: Deutsche Bank cuts to Hold", "JPM")
        == "$JPM: Deutsche Bank cuts to Hold"
    )


def test_a_headline_naming_no_company_is_prefixed_and_prices_stay_prices() -> None:
    text = "Netflix price target cut to $350 from $400 at US$ rates, down 2.5%"
    assert render_title(text, "NFLX") == f"$NFLX - {text}"


def test_links_are_dropped_and_lines_folded() -> None:
    text = "$TAP - Barclays cools on\nMolson Coors\xa0 https://t.co/FJFsZWJHuH"
    assert render_title(text, "AAPL") == "$AAPL - Barclays cools on Molson Coors"


def test_the_url_reference_is_found_again_and_only_where_there_is_one() -> None:
    assert row_of_url("https://marketwire.example/2026/11/24/tfns-valid-1234-9be711dd60") == 1234
    assert row_of_url("https://marketwire.example/2026/11/24/apple-beats-9be711dd60") is None
    assert row_of_url("https://news.example/tfns-valid-12") is None
    assert row_of_url("") is None


# --- the file ----------------------------------------------------------------------------------


def test_the_shipped_file_is_read_once_with_its_labels_in_the_models_order() -> None:
    headlines = labelled_headlines()
    assert labelled_headlines() is headlines
    assert len(headlines) > 2000
    first = headlines.get(0)
    assert first is not None and first.text.startswith("$ALLY") and first.tone == "negative"
    assert tuple(sorted({h.tone for t in LABELS for h in headlines.of_tone(t)})) == tuple(
        sorted(LABELS)
    )


def test_rows_keep_their_file_number_across_line_breaks_and_skipped_rows(tmp_path: Path) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text(
        'text,label\n"Shares fall\non weak guidance",0\nhttps://t.co/abc,1\nRecord profit,1\n',
        encoding="utf-8",
    )
    headlines = read_labelled_headlines(path)
    assert len(headlines) == 2
    assert headlines.get(0).text == "Shares fall\non weak guidance"  # type: ignore[union-attr]
    assert headlines.get(1) is None  # a link and nothing else: nothing to render
    assert [h.row for h in headlines.of_tone("positive")] == [2]


def test_a_missing_file_says_what_is_missing_and_how_to_get_it_back(tmp_path: Path) -> None:
    with pytest.raises(CorpusMissingError, match=r"sent_valid\.csv is not in services/scoring"):
        read_labelled_headlines(tmp_path / CORPUS_FILE.name)


# --- the world's stories -------------------------------------------------------------------------


def test_each_story_is_its_headlines_label_rendered_for_its_company() -> None:
    stories = week_of_news(11)
    headlines = labelled_headlines()
    assert len(stories) > 50
    assert {s.tone for s in stories} == set(LABELS)
    for story in stories:
        row = row_of_url(story.url)
        headline = headlines.get(row) if row is not None else None
        assert headline is not None and story.headline == headline.reference
        # The label the story carries is the headline's, and so is its wording.
        assert headline.tone == story.tone
        assert story.title == render_title(headline.text, story.primary)
        assert f"${story.primary}" in story.title and "t.co" not in story.title
        # No words of ours that could move the sentiment: at most a peer's cashtag.
        assert story.description == "".join(f"${peer}" for peer in story.tickers[1:])


def test_the_same_seed_tells_the_same_news_and_another_seed_other_news() -> None:
    first, again, other = week_of_news(5), week_of_news(5), week_of_news(6)
    assert [(s.title, s.url) for s in first] == [(s.title, s.url) for s in again]
    assert [s.title for s in first] != [s.title for s in other]


def test_injected_stories_of_a_tone_take_headlines_of_that_label() -> None:
    world = NewsWorld(seed=3, clock=lambda: NOW)
    stories = world.inject("NVDA", 12, tone="negative")
    found = [labelled_headlines().get(row_of_url(s.url) or -1) for s in stories]
    assert [h.tone if h else None for h in found] == ["negative"] * 12
    assert all("$NVDA" in s.title for s in stories)


def test_listed_peers_are_named_so_every_listed_ticker_is_in_the_text() -> None:
    universe = TickerUniverse.load()
    for story in week_of_news(11):
        text = f"{story.title} {story.description}"
        for symbol in story.tickers:
            company = universe.get(symbol)
            assert company is not None and (symbol in text or company.name in text)
