"""Correlations, lead/lag and horizons on series with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from services.analytics.correlation import horizon_correlations
from services.analytics.leadlag import lead_lag
from services.analytics.stats import correlation, mean_interval
from tests.unit.analytics.support import panel

pytestmark = pytest.mark.unit


def test_fisher_interval_and_p_value_follow_the_formula() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=103)
    y = 0.6 * x + rng.normal(size=103)
    found = correlation(x, y)
    r = float(np.corrcoef(x, y)[0, 1])
    assert found.r == pytest.approx(r)
    assert found.n == 103 and found.note is None
    assert found.low == pytest.approx(math.tanh(math.atanh(r) - 1.959964 / 10))
    assert found.high == pytest.approx(math.tanh(math.atanh(r) + 1.959964 / 10))
    z = math.atanh(r) * 10
    assert found.p_value == pytest.approx(1 - math.erf(z / math.sqrt(2)))
    assert found.p_value < 1e-4 and found.significant


def test_pairs_with_a_missing_value_are_left_out_and_small_samples_say_so() -> None:
    found = correlation([1, 2, 3, np.nan, 5, 6], [2, 4, 7, 1, 10, 12])
    assert found.n == 5
    assert found.note is not None and "only 5 pairs" in found.note
    assert math.isnan(correlation([1, 2], [3, 4]).r)
    assert math.isnan(correlation([1, 1, 1, 1, 1], [1, 2, 3, 4, 5]).r)


def test_noise_is_significant_about_one_time_in_twenty() -> None:
    # Given 400 pairs of independent series, the 95 % interval excludes zero ~5 % of the time
    rng = np.random.default_rng(7)
    hits = sum(
        correlation(rng.normal(size=80), rng.normal(size=80)).significant for _ in range(400)
    )
    assert 8 <= hits <= 35


def test_a_series_built_to_lead_returns_by_two_days_is_found_at_lag_two() -> None:
    # Given returns that follow sentiment two trading days later, plus noise
    rng = np.random.default_rng(3)
    sentiment = rng.uniform(-1, 1, size=250)
    returns = 0.01 * np.roll(sentiment, 2) + rng.normal(0, 0.004, size=250)
    returns[:2] = 0.0
    found = lead_lag(panel(list(sentiment), list(returns)), max_lag=5)
    assert found.best_lag == 2
    row = found.table.set_index("lag").loc[2]
    assert row["r"] > 0.8 and row["significant"] and row["n"] == 248
    others = found.table[found.table["lag"] != 2]
    assert (others["r"].abs() < 0.2).all()
    assert found.note is None


def test_random_sentiment_shows_no_significant_lead_or_correlation() -> None:
    rng = np.random.default_rng(11)
    sentiment = rng.uniform(-1, 1, size=250)
    returns = rng.normal(0, 0.01, size=250)
    data = panel(list(sentiment), list(returns))
    found = lead_lag(data, max_lag=5)
    assert found.best_lag is None
    assert found.note is not None and "no evidence" in found.note
    assert not any(h.correlation.significant for h in horizon_correlations(data))


def test_horizon_correlations_see_a_multi_day_effect_and_widen_for_overlap() -> None:
    # Given returns over the three days after a day that follow its sentiment
    rng = np.random.default_rng(5)
    n = 300
    sentiment = rng.uniform(-1, 1, size=n)
    returns = rng.normal(0, 0.004, size=n)
    for lag in (1, 2, 3):
        returns[lag:] += 0.004 * sentiment[:-lag]
    found = {
        h.horizon: h.correlation
        for h in horizon_correlations(panel(list(sentiment), list(returns)))
    }
    assert found[3].r > found[1].r > 0.3
    assert abs(found[0].r) < 0.15 and not found[0].significant
    # 3-day windows overlap: the interval is as wide as for a third of the pairs
    expected = math.tanh(math.atanh(found[3].r) + 1.959964 / math.sqrt(found[3].n / 3 - 3))
    assert found[3].high == pytest.approx(expected)
    assert found[3].n > 290


def test_mean_interval_of_known_values() -> None:
    mean, low, high = mean_interval([1.0, 2.0, 3.0, 4.0])
    half = 1.959964 * float(np.std([1, 2, 3, 4], ddof=1)) / 2
    assert (mean, low, high) == pytest.approx((2.5, 2.5 - half, 2.5 + half))
