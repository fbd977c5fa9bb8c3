"""The analytics section at the param level: it reads prices and sentiment through the API
client, analyses them, recomputes when a knob moves, and draws the three charts."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import pytest

from services.analytics.backtest import long_short
from services.analytics.event_study import event_study
from services.analytics.leadlag import lead_lag
from tests.unit.workbench.loop import run
from tests.unit.workbench.memory_api import HISTORY_DAYS, MemoryApi
from workbench.charts.analytics import equity_curves, event_curve, lead_lag_bars
from workbench.client import ApiClient
from workbench.components.analytics import AnalyticsPanel
from workbench.stores.analytics import AnalyticsStore, parse_tickers
from workbench.stores.session import SessionStore

pytestmark = pytest.mark.unit


def signed_in(client: ApiClient) -> SessionStore:
    """An anonymous session: prices nobody fetched yet are fetched for a session only."""
    session = SessionStore(client)
    run(session.start_anonymous())
    return session


def test_tickers_are_parsed_upper_cased_once_each() -> None:
    assert parse_tickers(" aapl, MSFT  nvda,aapl ") == ["AAPL", "MSFT", "NVDA"]
    assert parse_tickers(" , ") == []


def test_analyse_reads_each_tickers_prices_and_history_and_reports_small_samples(
    api: MemoryApi, client: ApiClient
) -> None:
    # Given the section of a session, with two tickers typed in
    store = AnalyticsStore(client, session=signed_in(client))
    section = AnalyticsPanel(store=store)
    section.tickers_input.value = "aapl, msft"
    assert store.tickers == ["AAPL", "MSFT"]

    # When Analyse is pressed
    section.load_button.clicks += 1

    # Then both routes were read per ticker, in the chosen range and source
    assert store.loads == 1 and store.problem is None
    assert [r for r in api.requests if "/tickers/" in r] == [
        "GET /api/v2/tickers/AAPL/ohlc",
        "GET /api/v2/tickers/AAPL/sentiment/history",
        "GET /api/v2/tickers/MSFT/ohlc",
        "GET /api/v2/tickers/MSFT/sentiment/history",
    ]
    assert store.panel is not None
    priced = len(store.panel)  # each day of the range, for each ticker
    report = store.report
    assert report is not None and report.tickers == ("AAPL", "MSFT")
    assert report.days_with_sentiment == 2 * HISTORY_DAYS
    # And the tiny sample is said plainly, not dressed up as a finding
    summary = section.summary()
    assert f"{priced} ticker-days with a price, {2 * HISTORY_DAYS} with sentiment" in summary
    assert "too few" in summary or "no " in summary
    assert all(h.correlation.note for h in report.correlations)
    assert isinstance(section.charts(), pn.Column)
    assert isinstance(section.correlations(), pn.pane.DataFrame)
    assert "GET /api/v2/tickers/AAPL/ohlc" in section.requests()


def test_a_new_threshold_recomputes_without_reading_the_api_again(
    api: MemoryApi, client: ApiClient
) -> None:
    store = AnalyticsStore(client, tickers=["AAPL"])
    run(store.load())
    reads = len(api.requests)
    first = store.report
    section = AnalyticsPanel(store=store)
    section.threshold_slider.value = 0.15
    assert store.report is not first and store.report is not None
    assert store.report.event_study.threshold == 0.15
    assert len(api.requests) == reads


def test_an_unknown_ticker_shows_the_apis_error_and_keeps_the_others(client: ApiClient) -> None:
    store = AnalyticsStore(client, session=signed_in(client), tickers=["ZZZZ", "AAPL"])
    run(store.load())
    assert store.problem is not None and store.problem.code == "UNKNOWN_TICKER"
    assert store.report is not None and store.report.tickers == ("AAPL",)


def test_no_tickers_say_what_to_do(client: ApiClient) -> None:
    store = AnalyticsStore(client, tickers=[])
    run(store.load())
    assert store.problem is not None and store.problem.code == "NOTHING_CHOSEN"
    summary = AnalyticsPanel(store=store).summary()
    assert "name at least one ticker" in summary and "Analysing" not in summary


def demo_panel() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    days = pd.bdate_range("2025-01-02", periods=80)
    sentiment = rng.uniform(-1, 1, size=80)
    returns = 0.01 * np.roll(sentiment, 1) + rng.normal(0, 0.003, size=80)
    return pd.DataFrame(
        {
            "date": days,
            "ticker": "AAA",
            "close": 100 * np.exp(np.cumsum(returns)),
            "log_return": returns,
            "simple_return": np.expm1(returns),
            "sentiment": sentiment,
            "count": 3,
        }
    )


def test_charts_draw_the_lead_lag_bars_event_curve_and_equity() -> None:
    data = demo_panel()
    bars = lead_lag_bars(lead_lag(data, 3).table)
    assert isinstance(bars, hv.Overlay)
    drawn = bars.Bars.I.data
    assert drawn["lag"].tolist() == [-3, -2, -1, 0, 1, 2, 3]
    # The bar of the built-in lead (lag 1) is coloured as significant, lag 0 is not
    colours = dict(zip(drawn["lag"], drawn["colour"], strict=True))
    assert colours[1] != colours[0]
    study = event_study(data, 0.5, before=2, after=2)
    curve = event_curve(study.curve, threshold=0.5, events=study.n_events)
    assert isinstance(curve, hv.Overlay)
    assert curve.Curve.I.data["offset"].tolist() == [-2, -1, 0, 1, 2]
    equity = equity_curves(long_short(data, 0.2).equity)
    assert len(equity) == 2
    hv.render(bars, backend="bokeh")
    hv.render(curve, backend="bokeh")
    hv.render(equity, backend="bokeh")
