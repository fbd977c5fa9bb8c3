"""Every section draws its default on its first view, without a click; an empty answer says
why and offers the action that fixes it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from services.settings import Settings
from tests.unit.workbench import seed
from tests.unit.workbench.loop import run
from tests.unit.workbench.memory_api import HISTORY_DAYS, MemoryApi
from workbench.app import Stores
from workbench.components.empty_state import EmptyNotice
from workbench.components.overlay import PriceSentimentPanel
from workbench.local_stack import StackFiles
from workbench.stores.configurations import SAMPLE_NAME
from workbench.stores.empty import INGEST, RECHECK, empty_reason
from workbench.stores.sections import SectionRefresh

pytestmark = pytest.mark.unit

WATCHLIST = "MSFT,AAPL,NVDA,AMZN,META,TSLA"


def stores_of(api: MemoryApi, tmp_path: Path, *, operator: bool = True) -> Stores:
    if operator:
        api.ops_routes = True
        (tmp_path / "operator-token").write_text(api.operator_token + "\n")
    settings = Settings(local_state_dir=str(tmp_path), default_watchlist=WATCHLIST)
    return Stores.build(api.client(), StackFiles.from_settings(settings), settings)


def show(stores: Stores, section: str) -> SectionRefresh:
    in_view = SectionRefresh(stores.section_refreshes(), active=section)
    run(in_view.refresh())
    return in_view


def test_price_and_sentiment_draws_the_watchlists_first_ticker_over_3m_on_open(
    api: MemoryApi, tmp_path: Path
) -> None:
    # Given a page just built, When Price & Sentiment comes into view, Then it starts a
    # session and draws the default watchlist's first ticker over 3M, with no button pressed.
    stores = stores_of(api, tmp_path)
    in_view = show(stores, "Price & Sentiment")
    overlay = stores.overlay
    assert (overlay.ticker, overlay.range_name) == ("MSFT", "3M")
    assert overlay.candles is not None and len(overlay.candles) == overlay.prices_info["count"] > 0
    assert overlay.history is not None and len(overlay.history) == HISTORY_DAYS
    assert overlay.prices_info["range"] == "3M" and overlay.loads == 1
    assert "POST /api/v2/auth/anonymous" in api.requests
    # The watchlist is on offer with the configurations' tickers; the controls stay.
    assert overlay.tickers[:2] == ["MSFT", "AAPL"]
    panel = PriceSentimentPanel(store=overlay)
    assert panel.load_button.name == "Load chart"
    # Later periods read nothing more: the controls take over.
    before = len(api.requests)
    run(in_view.refresh())
    assert len(api.requests) == before


def test_analytics_runs_the_default_watchlist_on_open(api: MemoryApi, tmp_path: Path) -> None:
    stores = stores_of(api, tmp_path)
    show(stores, "Analytics")
    analytics = stores.analytics
    assert analytics.tickers == WATCHLIST.split(",")
    assert analytics.range_name == "3M"
    assert analytics.report is not None and analytics.loads == 1
    assert "GET /api/v2/tickers/TSLA/sentiment/history" in api.requests
    assert analytics.empty.reason == ""


def test_sentiment_creates_a_sample_configuration_once_and_shows_its_sentiment(
    api: MemoryApi, tmp_path: Path
) -> None:
    # Given no session, When Sentiment comes into view, Then an anonymous session gets a
    # sample configuration from the default watchlist (as many tickers as it may hold), and
    # its sentiment is shown; viewing it again creates nothing more.
    stores = stores_of(api, tmp_path)
    in_view = show(stores, "Sentiment")
    configs = stores.configurations.configurations
    assert [c["name"] for c in configs] == ["Default watchlist"]
    assert configs[0]["tickers"] == WATCHLIST.split(",")[: api.max_tickers]
    assert stores.sentiment.config_id == configs[0]["config_id"]
    assert len(stores.sentiment.rows) == api.max_tickers * 4
    assert stores.sentiment.problem is None
    run(in_view.refresh())
    assert api.requests.count("POST /api/v2/configurations") == 1


def test_sentiment_keeps_the_sessions_own_configuration(api: MemoryApi, tmp_path: Path) -> None:
    stores = stores_of(api, tmp_path)
    run(stores.session.start_anonymous())
    run(stores.configurations.create())
    show(stores, "Sentiment")
    assert [c["name"] for c in stores.configurations.configurations] == ["Tech Watchlist"]
    assert stores.sentiment.rows


def test_configurations_lists_the_session_on_open_without_creating(
    api: MemoryApi, tmp_path: Path
) -> None:
    # The form's own example stays the person's to create (an anonymous session holds one).
    stores = stores_of(api, tmp_path)
    show(stores, "Configurations")
    assert stores.configurations.max_allowed == api.max_anonymous
    assert stores.configurations.configurations == []
    assert "POST /api/v2/configurations" not in api.requests


def test_no_sentiment_history_says_the_pipeline_has_not_run_and_runs_it(tmp_path: Path) -> None:
    # Given an API with no article yet, When the chart opens, Then the candles are drawn and
    # the empty sentiment says why, with "Run ingestion now" calling the ops route.
    api = MemoryApi(seeded=False)
    stores = stores_of(api, tmp_path)
    show(stores, "Price & Sentiment")
    empty = stores.overlay.empty
    assert stores.overlay.candles is not None and not stores.overlay.candles.empty
    assert empty.reason == "No aggregated sentiment for MSFT yet: the pipeline has not run"
    assert empty.action == INGEST and empty.action_label == "Run ingestion now"
    notice = EmptyNotice(state=empty, fix=stores.overlay.run_ingestion)
    assert notice.button.visible and notice.button.name == "Run ingestion now"
    loads = stores.overlay.loads
    notice.button.clicks += 1
    assert api.ingestion_runs == 1 and "POST /api/v2/ops/ingestion/run" in api.requests
    assert stores.overlay.loads == loads + 1
    # The cycle fetched the emulated providers' news and its outcome says how much was new.
    assert re.search(r"\b[1-9]\d* new article\(s\)", empty.outcome)


def test_empty_analytics_and_sentiment_say_why(tmp_path: Path) -> None:
    # Given articles stored and none analyzed yet
    api = MemoryApi(seeded=False)
    seed.pending(api.memory, api.clock(), 2)
    stores = stores_of(api, tmp_path)
    show(stores, "Analytics")
    assert stores.analytics.empty.reason.startswith("No sentiment history yet: 2 articles")
    assert stores.analytics.empty.action == INGEST
    run(stores.analytics.run_ingestion())
    assert api.ingestion_runs == 1


def test_sentiment_without_articles_offers_an_ingestion_cycle(tmp_path: Path) -> None:
    api = MemoryApi(seeded=False)
    stores = stores_of(api, tmp_path)
    show(stores, "Sentiment")
    assert stores.sentiment.empty.reason == "No sentiment yet: the pipeline has not run"
    run(stores.sentiment.run_ingestion())
    assert api.ingestion_runs == 1


def test_without_an_operator_token_the_empty_state_says_it_cannot_tell(tmp_path: Path) -> None:
    api = MemoryApi(seeded=False)
    stores = stores_of(api, tmp_path, operator=False)
    show(stores, "Price & Sentiment")
    empty = stores.overlay.empty
    assert "cannot tell" in empty.reason and "operator-token" in empty.reason
    assert empty.action == ""


def test_a_running_backfill_is_the_reason_with_its_progress() -> None:
    body = {
        "stages": {"ingested": 40},
        "backfill": {"status": "running", "days_done": 37, "days_total": 120},
    }
    assert empty_reason("No sentiment yet", body) == (
        "No history yet: backfill running (37/120 days)",
        RECHECK,
    )
    done = {**body, "backfill": {"status": "done", "days_done": 120, "days_total": 120}}
    assert empty_reason("No sentiment yet", done)[1] == INGEST


def test_authentication_shows_an_identity_once_and_does_not_undo_a_sign_out(
    api: MemoryApi, tmp_path: Path
) -> None:
    # Given a page just built, When Authentication comes into view, Then an anonymous
    # session is started and its identity shown
    stores = stores_of(api, tmp_path)
    in_view = show(stores, "Authentication")
    assert stores.session.auth_type == "anonymous" and stores.session.user_id
    # When the user signs out, Then later periods do not sign them in again
    run(stores.session.sign_out())
    run(in_view.refresh())
    assert not stores.session.signed_in
    assert api.requests.count("POST /api/v2/auth/anonymous") == 1


def test_the_traffic_generator_runs_its_default_scenario_once_on_open(
    api: MemoryApi, tmp_path: Path
) -> None:
    # Given a page just built, When the Traffic Generator comes into view, Then its chosen
    # scenario (the happy path) is started once; later views wait for Run.
    stores = stores_of(api, tmp_path)
    started: list[str] = []
    stores.traffic.start = lambda: started.append(stores.traffic.scenario)  # type: ignore[method-assign]
    in_view = show(stores, "Traffic Generator")
    run(in_view.refresh())
    assert started == ["basic"]


def test_a_list_read_from_a_lagging_environment_still_shows_the_change_just_made(
    api: MemoryApi, tmp_path: Path
) -> None:
    # Given an API whose list answers lag a create (another environment's cached copy)
    stores = stores_of(api, tmp_path)
    configurations = stores.configurations
    run(configurations.ensure_listed())
    real_list = configurations.client.list_configurations

    async def stale_list(bearer: str) -> Any:
        answer = await real_list(bearer)
        if isinstance(answer.body, dict):
            answer.body["configurations"] = []
        return answer

    configurations.client.list_configurations = stale_list  # type: ignore[method-assign]
    # When the Sentiment section makes its sample configuration
    show(stores, "Sentiment")
    # Then the page lists it and reads its sentiment all the same
    assert [c["name"] for c in configurations.configurations] == [SAMPLE_NAME]
    assert stores.sentiment.config_id == configurations.configurations[0]["config_id"]
    assert stores.sentiment.rows
