"""From API answers to the daily panel: returns dated by their close, weekend news rolled
into the next trading day."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from services.analytics.frames import forward_return, stack_panels
from services.analytics.loader import panel_from_answers
from tests.unit.analytics.support import panel

pytestmark = pytest.mark.unit


def test_returns_are_dated_by_their_close() -> None:
    found = panel([0.1, 0.2, 0.3], [0.0, 0.01, -0.02])
    assert math.isnan(found["log_return"].iloc[0])
    assert found["log_return"].iloc[1:].tolist() == pytest.approx([0.01, -0.02])
    assert found["simple_return"].iloc[1] == pytest.approx(math.exp(0.01) - 1)
    assert found["sentiment"].tolist() == pytest.approx([0.1, 0.2, 0.3])


def test_weekend_and_hourly_sentiment_roll_into_the_next_trading_day_count_weighted() -> None:
    # Given Friday and Monday closes, news on Saturday (1 article at -0.5) and two hourly
    # points on Monday (3 articles at 0.5)
    ohlc = {"candles": [{"date": "2024-01-05", "close": 10}, {"date": "2024-01-08", "close": 11}]}
    history = {
        "history": [
            {"date": "2024-01-06", "score": -0.5, "count": 1},
            {"date": "2024-01-08T14:00:00Z", "score": 0.5, "count": 2},
            {"date": "2024-01-08T15:00:00Z", "score": 0.5, "count": 1},
            {"date": "2024-01-09", "score": 0.9, "count": 4},  # after the last close: dropped
        ]
    }
    found = panel_from_answers("AAA", ohlc, history)
    assert found["date"].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-08")]
    assert math.isnan(found["sentiment"].iloc[0]) and found["count"].iloc[0] == 0
    assert found["sentiment"].iloc[1] == pytest.approx((-0.5 * 1 + 0.5 * 3) / 4)
    assert found["count"].iloc[1] == 4


def test_forward_returns_stay_within_each_ticker() -> None:
    both = stack_panels(
        [
            panel([0.0] * 3, [0.0, 0.01, 0.02], ticker="A"),
            panel([0.0] * 3, [0, 0.5, 0.5], ticker="B"),
        ]
    )
    ahead = forward_return(both, 2)
    assert ahead.iloc[0] == pytest.approx(0.03)
    assert math.isnan(ahead.iloc[2])  # A's last day has no following days; B's are not used


def test_no_prices_give_an_empty_panel() -> None:
    assert panel_from_answers("AAA", {"candles": []}, {"history": []}).empty
