"""After an analysis batch: check the alert rules of the tickers it touched.

A rule fires when its condition holds and it is armed; it stays quiet until the condition
clears (then it is re-armed) and its cool-down has passed: one crossing, one notice. Each
ticker's score (and, only when a volatility rule needs it, its ATR) is computed once per
batch, however many rules watch it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from services.adapters.errors import ProviderError
from services.adapters.models import Candle
from services.alerts.volatility import atr_percent
from services.clock import Clock
from services.market.prices import NoPricesError, PricesUnavailableError
from services.market.sentiment_view import BucketReader, ticker_sentiment
from services.notifications.alert_mail import Queued
from services.observability import get_logger
from services.store.models import Alert

LOGGER = get_logger("alerts")


class AlertIndex(Protocol):
    def list_for_ticker(self, ticker: str) -> list[Alert]: ...
    def rearm(self, alert: Alert) -> None: ...


class Mailer(Protocol):
    def fire(self, alert: Alert, value: float) -> Queued: ...


# The ticker's ATR % (None when prices are unavailable: volatility rules wait).
VolatilityOf = Callable[[str], float | None]


@dataclass
class EvaluationSummary:
    tickers: int = 0
    rules: int = 0
    fired: dict[str, int] = field(default_factory=dict)
    rearmed: int = 0

    def count(self, outcome: str) -> None:
        self.fired[outcome] = self.fired.get(outcome, 0) + 1


def holds(alert: Alert, value: float) -> bool:
    return value > alert.threshold if alert.direction == "above" else value < alert.threshold


def evaluate_alerts(
    tickers: Iterable[str],
    *,
    alerts: AlertIndex,
    sentiment: BucketReader,
    volatility: VolatilityOf,
    mailer: Mailer,
    clock: Clock,
) -> EvaluationSummary:
    summary = EvaluationSummary()
    for ticker in sorted(set(tickers)):
        rules = [a for a in alerts.list_for_ticker(ticker) if a.enabled]
        summary.tickers += 1
        if not rules:
            continue
        values: dict[str, float | None] = {}
        for alert in rules:
            summary.rules += 1
            if alert.alert_type not in values:
                values[alert.alert_type] = _value(
                    alert.alert_type, ticker, sentiment, volatility, clock
                )
            value = values[alert.alert_type]
            if value is None:
                continue
            if holds(alert, value):
                if not alert.in_breach:
                    outcome = mailer.fire(alert, value)
                    summary.count(outcome)
                    LOGGER.info(
                        "alert rule crossed",
                        extra={"alert_id": alert.alert_id, "ticker": ticker, "outcome": outcome},
                    )
            elif alert.in_breach:
                alerts.rearm(alert)
                summary.rearmed += 1
    return summary


def _value(
    alert_type: str,
    ticker: str,
    sentiment: BucketReader,
    volatility: VolatilityOf,
    clock: Clock,
) -> float | None:
    if alert_type == "sentiment_threshold":
        aggregated = ticker_sentiment(sentiment, ticker, clock()).aggregated
        # No source has data: nothing to compare, rather than a neutral zero.
        return aggregated.score if aggregated.used else None
    return volatility(ticker)


def volatility_from_candles(
    load_candles: Callable[[str], Sequence[Candle]], days: int
) -> VolatilityOf:
    """A `VolatilityOf` over a candle loader; prices that cannot be had mean "unknown for
    now": the ticker's volatility rules wait for the next batch."""

    def of(ticker: str) -> float | None:
        try:
            candles = load_candles(ticker)
        except (NoPricesError, PricesUnavailableError, ProviderError) as error:
            LOGGER.warning(
                "no prices for volatility rules", extra={"ticker": ticker, "error": str(error)}
            )
            return None
        return atr_percent(candles, days)

    return of
