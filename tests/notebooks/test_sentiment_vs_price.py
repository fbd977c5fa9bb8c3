"""The sentiment-vs-price notebook under papermill: attached to the suite's stack (a day of
news, so every figure says its sample is too small), and on a stack of its own with months
of history (where it finds the emulator's same-day link and no lead)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.local.stack import LocalStack
from tests.notebooks.conftest import execute

pytestmark = [pytest.mark.notebooks, pytest.mark.timeout(300)]


def test_sentiment_vs_price_on_little_history_says_the_sample_is_too_small(
    notebook_stack: LocalStack, root: Path, tmp_path: Path
) -> None:
    recorded = execute(
        root, "sentiment_vs_price", tmp_path, TICKERS=["AAPL", "MSFT"], RANGE="1M", THRESHOLD=0.2
    )

    described = recorded["stack"]
    assert described["mode"] == "attached"
    assert notebook_stack.api is not None and described["api_url"] == notebook_stack.api.url
    assert recorded["pipeline_counts"]["pending"] == 0
    # A month of prices per ticker, news on a day or two of it
    assert recorded["panel_rows"] >= 2 * 15
    assert 0 < recorded["days_with_sentiment"] < 30
    assert all(row["n"] < 30 for row in recorded["correlations"])
    assert "too few" in recorded["lead_lag_note"] or "no " in recorded["lead_lag_note"]
    assert recorded["event_note"] is not None
    assert recorded["backtest"]["note"] is not None


def test_sentiment_vs_price_finds_the_emulators_same_day_link_and_no_lead(
    root: Path, tmp_path: Path
) -> None:
    # Given no running stack: the notebook starts one and ingests half a year of news
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCAL_STATE_DIR", str(tmp_path / "nothing-here"))
        recorded = execute(
            root,
            "sentiment_vs_price",
            tmp_path,
            STACK="auto",
            TICKERS=["AAPL", "MSFT", "NVDA"],
            RANGE="6M",
            LOOKBACK_DAYS=190,
        )

    assert recorded["stack"]["mode"] == "embedded"
    by_horizon = {row["horizon_days"]: row for row in recorded["correlations"]}
    # The emulator moves each day's close with that day's news tone, and nothing later
    same_day = by_horizon[0]
    assert same_day["n"] >= 300
    assert same_day["r"] > 0.1 and same_day["ci_low"] > 0 and same_day["significant"]
    assert recorded["best_lag"] == 0
    assert recorded["events"] >= 10 and recorded["event_note"] is None
    assert recorded["backtest"]["days"] >= 100 and recorded["backtest"]["note"] is None
