"""Components at the param level: each renders its store, and its buttons drive the store.

Clicks are simulated by bumping a button's `clicks`; outside a server, param runs the
coroutine callbacks to completion, so the effect is visible right after.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import pytest

from tests.unit.workbench.loop import run
from tests.unit.workbench.markdown import shown
from tests.unit.workbench.memory_api import HISTORY_DAYS, SENDGRID, MemoryApi
from workbench.client import ApiClient, Problem
from workbench.components.cache_layer import CacheLayerNote
from workbench.components.configurations import ConfigurationsPanel
from workbench.components.format import call_markdown, merge_markdown, problem_markdown
from workbench.components.header import HeaderTiles
from workbench.components.health import HealthPanel
from workbench.components.magic_link import MagicLinkPanel
from workbench.components.oauth import OAuthPanel
from workbench.components.overlay import PriceSentimentPanel
from workbench.components.sentiment import SentimentPanel
from workbench.components.session import SessionPanel
from workbench.components.tile import tile_html
from workbench.stores.configurations import ConfigurationsStore
from workbench.stores.health import HealthStore
from workbench.stores.latency import LatencyStore
from workbench.stores.live import LiveTiles
from workbench.stores.magic_link import MagicLinkStore
from workbench.stores.oauth import OAuthStore
from workbench.stores.ops import OpsStore
from workbench.stores.overlay import OverlayStore
from workbench.stores.schema import SchemaStore
from workbench.stores.sentiment import SentimentStore
from workbench.stores.session import SessionStore
from workbench.stores.timer import TimerStore

pytestmark = pytest.mark.unit


def click(button: pn.widgets.Button) -> None:
    button.clicks += 1


def test_header_tiles_show_live_figures_and_where_they_come_from(
    api: MemoryApi, client: ApiClient
) -> None:
    live = LiveTiles(
        health=HealthStore(client),
        latency=LatencyStore(client),
        ops=OpsStore(client, lambda: api.operator_token),
    )
    header = HeaderTiles(live=live, timer=TimerStore())
    assert isinstance(header.__panel__(), pn.layout.FlexBox)
    run(live.refresh())
    assert ">healthy<" in header.health_tile()
    assert "Measured by this workbench" in header.average_tile()
    assert "3 calls" in header.average_tile()
    assert ">n/a<" in header.cache_tile() and "404" in header.cache_tile()
    assert ">n/a<" in header.circuits_tile()
    api.ops_routes = True
    api.read_sentiment(2)
    run(live.refresh())
    ops = live.ops
    assert ops.cache_hits and ops.cache_misses and ops.hit_rate is not None
    tile = header.cache_tile()
    assert f">{ops.hit_rate:.0%}<" in tile
    assert f"{ops.cache_hits} hits / {ops.cache_misses} misses" in tile
    assert ">3/3<" in header.circuits_tile()


def test_timer_buttons_drive_the_timer(client: ApiClient) -> None:
    timer = TimerStore()
    live = LiveTiles(
        health=HealthStore(client), latency=LatencyStore(client), ops=OpsStore(client, lambda: None)
    )
    header = HeaderTiles(live=live, timer=timer)
    click(header.start_button)
    assert timer.running and "running" in header.timer_tile()
    click(header.pause_button)
    assert not timer.running
    click(header.reset_button)
    assert ">00:00<" in header.timer_tile()


def test_tile_escapes_what_it_shows() -> None:
    html = tile_html("<b>", "1 < 2", 'say "hi"')
    assert "&lt;b&gt;" in html and "1 &lt; 2" in html and 'title="say &quot;hi&quot;"' in html


def test_session_panel_try_it_shows_the_session(client: ApiClient) -> None:
    session = SessionStore(client)
    panel = SessionPanel(session=session)
    panel.__panel__()
    assert "Not signed in" in panel.identity()
    click(panel.try_button)
    assert "**201**" in panel.last_call() and '"auth_type": "anonymous"' in panel.last_call()
    assert "| kind | **anonymous** |" in panel.identity()
    assert "0 used of 1" in panel.identity()
    click(panel.sign_out_button)
    assert "Not signed in" in panel.identity()


def test_magic_link_panel_sends_reads_and_verifies(api: MemoryApi, client: ApiClient) -> None:
    session = SessionStore(client)
    panel = MagicLinkPanel(store=MagicLinkStore(client, lambda: SENDGRID, session=session))
    panel.__panel__()
    click(SessionPanel(session=session).try_button)
    panel.email_input.value = "ann@example.com"
    click(panel.send_button)
    assert "**202**" in panel.sent() and "900 s" in panel.sent()
    assert "ann@example.com" in shown(panel.outbox())
    click(panel.verify_button)
    assert "**Merge report**: `upgraded`" in panel.verified()
    assert session.auth_type == "email"


def test_oauth_panel_lists_each_step(client: ApiClient) -> None:
    session = SessionStore(client)
    panel = OAuthPanel(store=OAuthStore(client, session=session))
    panel.__panel__()
    assert panel.journey() == "Not started."
    click(panel.sign_in_button)
    journey = panel.journey()
    assert "| 1 |" in journey and "| 3 |" in journey and "`none`" in journey
    assert session.auth_type == "oauth"


def test_configurations_panel_rules_form_and_list(api: MemoryApi, client: ApiClient) -> None:
    session = SessionStore(client)
    store = ConfigurationsStore(client, session=session)
    schema = SchemaStore(client)
    panel = ConfigurationsPanel(store=store, schema=schema)
    panel.__panel__()
    assert "start one to read it from the API" in panel.rules()
    run(schema.load())
    run(session.start_anonymous())
    rules = panel.rules()
    assert "anonymous session: **1**" in rules and "at most **5**" in rules
    assert "Name: 1 to 50 characters" in rules
    click(panel.create_button)
    assert "'Tech Watchlist' created" in shown(panel.outcome())
    listing = panel.listing()
    assert "**1 of 1**" in listing[0].object and "X-Cache: **miss**" in listing[0].object
    click(panel.create_button)
    assert "maximum of 1 configuration(s) reached" in shown(panel.outcome())
    panel.query_input.value = "tesla"
    click(panel.search_button)
    assert "TSLA" in panel.tickers_input.options and "Tesla Inc." in shown(panel.search_results())


def test_configurations_panel_edits_and_deletes(client: ApiClient) -> None:
    session = SessionStore(client)
    store = ConfigurationsStore(client, session=session)
    panel = ConfigurationsPanel(store=store, schema=SchemaStore(client))
    run(session.start_anonymous())
    click(panel.create_button)
    row = panel.listing()[1]
    edit, delete = row[1], row[2]
    click(edit)
    assert panel.save_button.visible and not panel.create_button.visible
    panel.name_input.value = ""
    click(panel.save_button)
    assert "(field: `name`)" in panel.outcome()
    click(panel.cancel_button)
    assert panel.create_button.visible
    click(delete)
    assert store.configurations == [] and "deleted" in panel.outcome()


def test_sentiment_panel_shows_the_per_source_table(client: ApiClient) -> None:
    session = SessionStore(client)
    configurations = ConfigurationsStore(client, session=session)
    panel = SentimentPanel(store=SentimentStore(client, configurations=configurations))
    panel.__panel__()
    run(session.start_anonymous())
    run(configurations.create())
    assert list(panel.config_select.options) == ["Tech Watchlist (AAPL, MSFT, NVDA)"]
    click(panel.get_button)
    table = panel.table()
    assert "X-Cache: **miss**" in table and "finnhub: unavailable" in table
    assert table.count("| AAPL |") == 4 and "| aggregated |" in table


def test_overlay_panel_draws_the_chart(client: ApiClient) -> None:
    session = SessionStore(client)
    configurations = ConfigurationsStore(client, session=session)
    schema = SchemaStore(client)
    store = OverlayStore(client, configurations=configurations, schema=schema)
    panel = PriceSentimentPanel(store=store)
    panel.__panel__()
    assert isinstance(panel.chart(), pn.pane.Markdown)
    run(schema.load())
    run(session.start_anonymous())
    run(configurations.create())
    assert panel.range_buttons.options == ["1W", "1M", "3M", "6M", "1Y"]
    assert panel.ticker_select.options == ["AAPL", "MSFT", "NVDA"]
    click(panel.load_button)
    assert isinstance(panel.chart(), pn.pane.HoloViews)
    candles = f"{store.prices_info['count']} candles"
    assert candles in panel.details() and f"{HISTORY_DAYS} aggregated points" in panel.details()
    # A new range redraws without the button.
    panel.range_buttons.value = "1W"
    assert store.loads == 2 and store.prices_info["range"] == "1W"


def test_health_panel_renders_the_checks(client: ApiClient) -> None:
    store = HealthStore(client)
    panel = HealthPanel(store=store)
    run(store.refresh())
    assert "| dynamodb |" in panel._checks_markdown()


def test_format_helpers() -> None:
    assert problem_markdown(None) == ""
    error = shown(problem_markdown(Problem(409, "LIMIT_REACHED", "full", "tickers")))
    assert error.startswith("**Error**: full (field: `tickers`)") and "409 LIMIT_REACHED" in error
    assert call_markdown({}, empty="nothing") == "nothing"
    call = {"request": "GET /x", "status": 200, "elapsed_ms": 1.0, "cache": "hit", "body": {}}
    assert call_markdown(call, empty="", body=False) == "`GET /x` → **200** in 1.0 ms, X-Cache: hit"
    assert merge_markdown({}) == ""
    assert "became the account" in merge_markdown({"mode": "upgraded"})


def test_an_empty_frame_keeps_the_placeholder(client: ApiClient) -> None:
    session = SessionStore(client)
    configurations = ConfigurationsStore(client, session=session)
    store = OverlayStore(client, configurations=configurations, schema=SchemaStore(client))
    panel = PriceSentimentPanel(store=store)
    store.candles = pd.DataFrame(columns=["date", "open", "high", "low", "close", "volume"])
    assert isinstance(panel.chart(), pn.pane.Markdown)


def test_cache_layer_note_reads_its_layer_from_the_ops_report(
    api: MemoryApi, client: ApiClient
) -> None:
    # Given the ops route missing, Then the note says n/a; once served, Then it shows the
    # layer's TTL and hit rate as reported.
    ops = OpsStore(client, lambda: api.operator_token)
    note = CacheLayerNote(
        ops=ops, layer="configuration_sentiment", title="a configuration's sentiment"
    )
    note.__panel__()
    run(ops.refresh())
    assert "n/a" in note.note()
    api.ops_routes = True
    api.read_sentiment(4)
    run(ops.refresh())
    assert "TTL 300 s, hit rate 75% (3 hits, 1 misses)" in note.note()
    other = CacheLayerNote(ops=ops, layer="absent", title="x")
    assert "not reported yet" in other.note()
