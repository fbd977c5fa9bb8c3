"""Configurations, sentiment, the overlay's data and the API document, at the param level."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.unit.workbench.loop import run
from tests.unit.workbench.memory_api import HISTORY_DAYS, MemoryApi
from workbench.client import ApiClient
from workbench.stores.configurations import ConfigurationsStore
from workbench.stores.overlay import OverlayStore, candle_frame, history_frame
from workbench.stores.schema import SchemaStore
from workbench.stores.sentiment import SentimentStore
from workbench.stores.session import SessionStore

pytestmark = pytest.mark.unit


def signed_in(client: ApiClient) -> ConfigurationsStore:
    session = SessionStore(client)
    configurations = ConfigurationsStore(client, session=session)
    run(session.start_anonymous())
    return configurations


def test_signing_in_lists_the_configurations(client: ApiClient) -> None:
    # The store listens to the session: a new identity reloads the list.
    configurations = signed_in(client)
    assert configurations.max_allowed == 1
    assert configurations.configurations == []
    assert configurations.list_cache == "miss"


def test_create_adds_the_example_watchlist(client: ApiClient) -> None:
    configurations = signed_in(client)
    run(configurations.create())
    assert [c["name"] for c in configurations.configurations] == ["Tech Watchlist"]
    assert configurations.configurations[0]["tickers"] == ["AAPL", "MSFT", "NVDA"]
    assert configurations.notice == "'Tech Watchlist' created"
    assert configurations.problem is None


def test_errors_show_the_message_and_the_field(client: ApiClient) -> None:
    configurations = signed_in(client)
    configurations.config_name = ""
    run(configurations.create())
    problem = configurations.problem
    assert problem is not None
    assert (problem.message, problem.field) == (
        "body.name: String should have at least 1 character",
        "name",
    )
    configurations.param.update(
        config_name="Too many", tickers=["AAPL", "MSFT", "NVDA", "AMZN", "META", "TSLA"]
    )
    run(configurations.create())
    assert configurations.problem is not None and configurations.problem.field == "tickers"
    assert configurations.notice == ""


def test_the_limit_is_the_apis_message(client: ApiClient) -> None:
    configurations = signed_in(client)
    run(configurations.create())
    run(configurations.create())
    problem = configurations.problem
    assert problem is not None
    assert (problem.status, problem.code) == (409, "LIMIT_REACHED")
    assert problem.message == "maximum of 1 configuration(s) reached"


def test_edit_then_save_patches_the_configuration(client: ApiClient) -> None:
    configurations = signed_in(client)
    run(configurations.create())
    config_id = configurations.configurations[0]["config_id"]
    configurations.edit(config_id)
    assert configurations.editing_id == config_id
    configurations.param.update(config_name="Chips", tickers=["NVDA", "AMAT"])
    run(configurations.save())
    saved = configurations.configurations[0]
    assert (saved["name"], saved["tickers"], saved["version"]) == ("Chips", ["NVDA", "AMAT"], 2)
    assert configurations.editing_id == ""


def test_delete_removes_it_from_the_list(client: ApiClient) -> None:
    configurations = signed_in(client)
    run(configurations.create())
    config_id = configurations.configurations[0]["config_id"]
    run(configurations.delete(config_id))
    assert configurations.configurations == []
    assert "deleted" in configurations.notice


def test_changes_need_a_session(client: ApiClient) -> None:
    configurations = ConfigurationsStore(client, session=SessionStore(client))
    run(configurations.create())
    assert configurations.problem is not None and configurations.problem.code == "NOT_SIGNED_IN"


def test_ticker_search_lists_matches(client: ApiClient) -> None:
    configurations = signed_in(client)
    configurations.query = "app"
    run(configurations.search())
    assert [r["symbol"] for r in configurations.search_results] == ["AAPL", "AMAT"]
    configurations.query = " "
    run(configurations.search())
    assert configurations.search_results == []


def test_sentiment_has_a_row_per_ticker_and_source(api: MemoryApi, client: ApiClient) -> None:
    # Given a new configuration, Then the sentiment store picks it; a first read misses the
    # cache and a second hits it.
    configurations = signed_in(client)
    sentiment = SentimentStore(client, configurations=configurations)
    run(configurations.create())
    assert sentiment.config_id == configurations.configurations[0]["config_id"]
    run(sentiment.load())
    assert len(sentiment.rows) == 3 * 4
    assert {r["source"] for r in sentiment.rows} == {"tiingo", "finnhub", "our_model", "aggregated"}
    aggregated = next(r for r in sentiment.rows if r["source"] == "aggregated")
    # (Both sources hold the same seeded scores: they agree fully.)
    assert aggregated["status"] == "used: our_model, tiingo; agreement 1.00"
    assert sentiment.source_status == {"tiingo": "ok", "finnhub": "unavailable"}
    assert sentiment.cache == "miss"
    run(sentiment.load())
    assert sentiment.cache == "hit"


def test_sentiment_without_a_configuration_says_what_to_do(client: ApiClient) -> None:
    sentiment = SentimentStore(client, configurations=signed_in(client))
    run(sentiment.load())
    assert sentiment.problem is not None and sentiment.problem.code == "NO_CONFIGURATION"


def test_schema_store_reads_choices_and_rules(client: ApiClient) -> None:
    schema = SchemaStore(client)
    run(schema.load())
    assert (schema.ranges, schema.default_range) == (["1W", "1M", "3M", "6M", "1Y"], "1M")
    sources = ["aggregated", "tiingo", "finnhub", "our_model"]
    assert (schema.sources, schema.default_source) == (sources, "aggregated")
    assert schema.configuration_fields["name"] == "1 to 50 characters"


def test_overlay_follows_configurations_and_loads_both_series(client: ApiClient) -> None:
    configurations = signed_in(client)
    schema = SchemaStore(client)
    overlay = OverlayStore(client, configurations=configurations, schema=schema)
    run(schema.load())
    run(configurations.create())
    assert overlay.tickers == ["AAPL", "MSFT", "NVDA"]
    assert (overlay.ticker, overlay.range_name, overlay.source) == ("AAPL", "3M", "aggregated")
    run(overlay.load())
    assert overlay.candles is not None and len(overlay.candles) == overlay.prices_info["count"] > 0
    assert overlay.history is not None and len(overlay.history) == HISTORY_DAYS
    assert overlay.prices_info["x_cache"] == "miss" and overlay.prices_info["ticker"] == "AAPL"
    assert overlay.history_info["count"] == HISTORY_DAYS
    assert overlay.problem is None and overlay.loads == 1


def test_overlay_shows_an_unknown_ticker_as_the_api_says(client: ApiClient) -> None:
    configurations = signed_in(client)
    schema = SchemaStore(client)
    overlay = OverlayStore(client, configurations=configurations, schema=schema)
    run(schema.load())
    overlay.ticker = "ZZZZ"
    run(overlay.load())
    assert overlay.candles is None
    assert overlay.problem is not None and overlay.problem.code == "UNKNOWN_TICKER"


def test_overlay_needs_a_ticker(client: ApiClient) -> None:
    configurations = signed_in(client)
    overlay = OverlayStore(client, configurations=configurations, schema=SchemaStore(client))
    run(overlay.load())
    assert overlay.problem is not None and overlay.problem.code == "NOTHING_CHOSEN"


def test_frames_are_sorted_naive_utc() -> None:
    candles = candle_frame(
        {
            "candles": [
                {
                    "date": "2026-01-02",
                    "open": 1,
                    "high": 2,
                    "low": 0.5,
                    "close": 1.5,
                    "volume": 10,
                },
                {
                    "date": "2026-01-01",
                    "open": 1,
                    "high": 2,
                    "low": 0.5,
                    "close": 1.5,
                    "volume": 10,
                },
            ]
        }
    )
    assert list(candles["date"].dt.day) == [1, 2] and candles["date"].dt.tz is None
    history = history_frame(
        {
            "history": [
                {
                    "date": "2026-01-01T10:00:00Z",
                    "score": 0.2,
                    "label": "neutral",
                    "confidence": 0.5,
                    "count": 1,
                    "source": "tiingo",
                }
            ]
        }
    )
    assert history["date"].iloc[0].hour == 10 and history["date"].dt.tz is None
    assert candle_frame({}).empty and history_frame(None).empty


def test_the_latest_choice_is_drawn_whichever_answer_comes_last(client: ApiClient) -> None:
    # Given the section's first chart (3M) still loading, its prices answer slow
    configurations = signed_in(client)
    schema = SchemaStore(client)
    overlay = OverlayStore(client, configurations=configurations, schema=schema)
    run(schema.load())
    run(configurations.create())
    asked = client.ohlc
    slow = {"calls": 0}

    async def first_slow(*args: Any, **kwargs: Any) -> Any:
        slow["calls"] += 1
        if slow["calls"] == 1:
            await asyncio.sleep(0.2)
        return await asked(*args, **kwargs)

    client.ohlc = first_slow  # type: ignore[method-assign]

    # When 1W is pressed meanwhile
    async def first_then_a_choice() -> None:
        first = asyncio.create_task(overlay.load())
        await asyncio.sleep(0)
        overlay.range_name = "1W"
        await overlay.load()
        await first

    run(first_then_a_choice())

    # Then the chart shows 1W, not the first chart's late answer
    assert overlay.prices_info["range"] == "1W"
    assert overlay.loads == 1
