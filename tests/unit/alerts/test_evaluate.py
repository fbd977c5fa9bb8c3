"""Checking alert rules after an analysis batch: one crossing fires once, a cleared condition
re-arms the rule, and each ticker's figures are computed once however many rules watch it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.adapters.errors import ProviderUnavailableError
from services.adapters.models import Candle
from services.alerts.evaluate import evaluate_alerts, holds, volatility_from_candles
from services.alerts.volatility import atr_percent
from services.analysis.buckets import Bucket
from services.market.prices import NoPricesError
from services.store.models import Alert
from tests.unit.resilience.support import START, Clock

pytestmark = pytest.mark.unit


def rule(alert_id: str = "a1", **changes: object) -> Alert:
    alert = Alert(
        alert_id=alert_id,
        user_id="u1",
        config_id="c1",
        ticker="AAPL",
        alert_type="sentiment_threshold",
        direction="below",
        threshold=-0.2,
        enabled=True,
        created_at=START,
        updated_at=START,
    )
    return replace(alert, **changes)  # type: ignore[arg-type]


class Rules:
    def __init__(self, *alerts: Alert) -> None:
        self.alerts = {a.alert_id: a for a in alerts}
        self.rearmed: list[str] = []

    def list_for_ticker(self, ticker: str) -> list[Alert]:
        return [a for a in self.alerts.values() if a.ticker == ticker]

    def rearm(self, alert: Alert) -> None:
        self.rearmed.append(alert.alert_id)
        self.alerts[alert.alert_id] = replace(alert, in_breach=False)


class Mailer:
    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.fired: list[tuple[str, float]] = []

    def fire(self, alert: Alert, value: float) -> str:
        self.fired.append((alert.alert_id, value))
        self.rules.alerts[alert.alert_id] = replace(alert, in_breach=True)
        return "queued"


class Buckets:
    """Every source's hourly bucket holds `score` for the current hour."""

    def __init__(self, score: float) -> None:
        self.score = score
        self.reads = 0

    def history(self, ticker, source, resolution, since, until):  # type: ignore[no-untyped-def]
        self.reads += 1
        if resolution != "H":
            return []
        start = until.replace(minute=0, second=0, microsecond=0)
        return [Bucket(ticker, source, "H", start, 10, self.score * 10, self.score, self.score)]


def check(rules: Rules, mailer: Mailer, sentiment: Buckets, volatility=lambda t: None):  # type: ignore[no-untyped-def]
    return evaluate_alerts(
        ["AAPL"],
        alerts=rules,
        sentiment=sentiment,
        volatility=volatility,
        mailer=mailer,
        clock=Clock(),
    )


def test_a_crossing_fires_once_and_clearing_rearms() -> None:
    rules = Rules(rule())
    mailer = Mailer(rules)

    check(rules, mailer, Buckets(-0.5))
    check(rules, mailer, Buckets(-0.6))  # still below: no second notice
    assert [a for a, _ in mailer.fired] == ["a1"]

    summary = check(rules, mailer, Buckets(0.1))  # cleared
    assert summary.rearmed == 1 and rules.rearmed == ["a1"]

    check(rules, mailer, Buckets(-0.5))  # crossed again
    assert [a for a, _ in mailer.fired] == ["a1", "a1"]


def test_disabled_rules_and_rules_on_other_tickers_stay_quiet() -> None:
    rules = Rules(rule("off", enabled=False), rule("msft", ticker="MSFT"))
    mailer = Mailer(rules)

    check(rules, mailer, Buckets(-0.9))

    assert mailer.fired == []


def test_no_sentiment_at_all_fires_nothing() -> None:
    class Empty(Buckets):
        def history(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return []

    rules = Rules(rule(direction="above", threshold=-0.5))
    mailer = Mailer(rules)
    check(rules, mailer, Empty(0.0))
    assert mailer.fired == []


def test_figures_are_computed_once_per_ticker() -> None:
    rules = Rules(
        rule("s1"),
        rule("s2", direction="above", threshold=-0.9),
        rule("v1", alert_type="volatility_threshold", direction="above", threshold=2.0),
        rule("v2", alert_type="volatility_threshold", direction="below", threshold=9.0),
    )
    mailer = Mailer(rules)
    sentiment = Buckets(-0.5)
    asked: list[str] = []

    def volatility(ticker: str) -> float:
        asked.append(ticker)
        return 4.0

    check(rules, mailer, sentiment, volatility)

    assert sorted(a for a, _ in mailer.fired) == ["s1", "s2", "v1", "v2"]
    assert asked == ["AAPL"]
    assert sentiment.reads == 3  # one hourly read per source, once


def test_holds_compares_strictly() -> None:
    assert holds(rule(direction="below", threshold=-0.2), -0.21)
    assert not holds(rule(direction="below", threshold=-0.2), -0.2)
    assert holds(rule(direction="above", threshold=0.2), 0.3)


def candles(closes: list[float], spread: float) -> list[Candle]:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    return [
        Candle(start + timedelta(days=n), c, c + spread / 2, c - spread / 2, c, 1000)
        for n, c in enumerate(closes)
    ]


def test_atr_percent_of_a_steady_range() -> None:
    # Flat closes at 100 and a 2.0 range every day: ATR 2.0, 2 % of the close
    assert atr_percent(candles([100.0] * 20, 2.0), 14) == pytest.approx(2.0)


def test_atr_counts_overnight_gaps() -> None:
    # A close-to-close jump of 10 with a 1.0 intraday range: the true range is the gap
    series = candles([100.0] * 14 + [110.0], 1.0)
    expected = (13 * 1.0 + (110.5 - 100.0)) / 14 / 110.0 * 100
    assert atr_percent(series, 14) == pytest.approx(expected)


def test_atr_needs_enough_candles() -> None:
    assert atr_percent(candles([100.0] * 14, 2.0), 14) is None


def test_volatility_is_unknown_when_prices_cannot_be_had() -> None:
    def failing(ticker: str) -> list[Candle]:
        raise ProviderUnavailableError("tiingo", "server error 500", 500)

    def missing(ticker: str) -> list[Candle]:
        raise NoPricesError("no prices", ticker)

    assert volatility_from_candles(failing, 14)("AAPL") is None
    assert volatility_from_candles(missing, 14)("AAPL") is None
