"""Event study and backtest on inputs small enough to compute by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from services.analytics.backtest import long_short
from services.analytics.event_study import crossings, event_study
from services.analytics.frames import stack_panels
from tests.unit.analytics.support import panel

pytestmark = pytest.mark.unit

RETURNS = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09]


def test_event_study_averages_the_cumulative_return_from_the_close_before_the_event() -> None:
    # Given sentiment crossing 0.5 upwards on days 3 and 7 (day 5 stays above: no new event)
    sentiment = [0.0, 0.0, 0.0, 0.6, 0.7, 0.9, 0.1, 0.8, 0.2, 0.3]
    found = event_study(panel(sentiment, RETURNS), 0.5, before=2, after=2)
    # Then each event's path is log(close_{t+k} / close_{t-1})
    assert found.n_events == 2
    assert found.events["date"].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-11")]
    curve = found.curve.set_index("offset")["mean"]
    day3 = [-0.02, 0.0, 0.03, 0.07, 0.12]
    day7 = [-0.06, 0.0, 0.07, 0.15, 0.24]
    expected = [(a + b) / 2 for a, b in zip(day3, day7, strict=True)]
    assert curve.loc[[-2, -1, 0, 1, 2]].tolist() == pytest.approx(expected)
    assert (found.curve["n"] == 2).all()
    assert found.note is not None and "only 2 events" in found.note


def test_events_whose_window_runs_off_the_data_are_left_out() -> None:
    sentiment = [0.0, 0.0, 0.0, 0.6, 0.7, 0.9, 0.1, 0.8, 0.2, 0.3]
    found = event_study(panel(sentiment, RETURNS), 0.5, before=2, after=3)
    assert found.n_events == 1  # day 7 + 3 is past the last day


def test_negative_thresholds_cross_downwards_and_days_without_news_are_skipped() -> None:
    sentiment: list[float | None] = [0.1, -0.6, None, -0.7, 0.2, None, -0.5, 0.0, 0.0, 0.0]
    flags = crossings(panel(sentiment, RETURNS), -0.5)
    assert flags[flags].index.tolist() == [1, 6]


def test_no_events_give_an_empty_curve_and_say_so() -> None:
    found = event_study(panel([0.0] * 10, RETURNS), 0.5, before=1, after=1)
    assert found.n_events == 0
    assert found.curve["mean"].isna().all()
    assert found.note is not None and "no events" in found.note


def test_long_short_trades_the_next_day_and_counts_turnover() -> None:
    # Given sentiment long, short, no news, too weak, long; simple returns of days 1-4
    simple = [0.10, -0.05, 0.02, 0.03]
    log_returns = [0.0] + [math.log1p(r) for r in simple]
    found = long_short(panel([0.5, -0.5, None, 0.05, 0.5], log_returns), threshold=0.1)
    # Then positions over days 1-4 are long, short, flat, flat
    assert found.total_return == pytest.approx(1.10 * 1.05 - 1)
    assert found.benchmark_return == pytest.approx(1.10 * 0.95 * 1.02 * 1.03 - 1)
    assert found.turnover == pytest.approx((2 + 1 + 0) / 3)
    assert (found.days, found.active_days, found.hit_rate) == (4, 2, 1.0)
    assert found.equity["strategy"].tolist() == pytest.approx([1.1, 1.155, 1.155, 1.155])
    assert found.equity["exposure"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert found.note is not None and "only 4 trading days" in found.note


def test_tickers_are_equal_weighted_per_day() -> None:
    a = panel([0.5, 0.5, 0.5], [0.0, math.log1p(0.02), math.log1p(0.04)], ticker="A")
    b = panel([-0.5, -0.5, -0.5], [0.0, math.log1p(0.02), math.log1p(-0.02)], ticker="B")
    found = long_short(stack_panels([a, b]), threshold=0.1)
    # A long: +2 %, +4 %; B short: -2 %, +2 %; the book earns the average each day
    assert found.equity["strategy"].tolist() == pytest.approx([1.0, 1.03])
    assert found.equity["benchmark"].tolist() == pytest.approx([1.02, 1.02 * 1.01])


def test_a_flat_strategy_says_it_never_traded() -> None:
    many = 70
    found = long_short(panel([0.0] * many, [0.001] * many), threshold=0.5)
    assert found.active_days == 0 and found.total_return == 0.0
    assert found.note is not None and "stayed flat" in found.note
