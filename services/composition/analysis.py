"""The analysis function's collaborators: the scorer, the store, and the alert rules'
checker (prices through Tiingo's guard for volatility, alert e-mails into the outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from services.alerts.evaluate import EvaluationSummary, evaluate_alerts, volatility_from_candles
from services.analysis.batches import AlertChecker, AnalysisDependencies
from services.clock import Clock, utc_now
from services.composition.providers import tiingo_adapter
from services.composition.resilience import table_guard
from services.composition.stores import outbox
from services.market.prices import PriceService
from services.notifications.alert_mail import AlertMailer
from services.resilience.guard import CallGuard
from services.scoring import default_scorer
from services.settings import Settings, get_settings
from services.store.alerts import DynamoAlertRepository
from services.store.articles import DynamoArticleRepository
from services.store.configurations import DynamoConfigurationRepository
from services.store.ohlc_cache import DynamoOhlcCache
from services.store.preferences import DynamoPreferenceRepository
from services.store.sentiment import DynamoSentimentStore
from services.store.table import dynamodb_table
from services.store.users import DynamoUserRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def alert_checker(
    settings: Settings, table: Table, guard: CallGuard, clock: Clock = utc_now
) -> AlertChecker:
    """Evaluates the alert rules of the tickers an analysis batch touched: ensemble scores
    from the buckets, volatility from daily candles (through Tiingo's guard, cached)."""
    prices = PriceService(tiingo_adapter(settings), DynamoOhlcCache(table), clock, guard=guard)
    mailer = AlertMailer(
        users=DynamoUserRepository(table),
        configurations=DynamoConfigurationRepository(table),
        preferences=DynamoPreferenceRepository(table),
        outbox=outbox(settings, table),
        settings=settings,
        clock=clock,
    )
    volatility = volatility_from_candles(
        lambda ticker: prices.candles(ticker, "3M", "D").prices.candles,
        settings.volatility_atr_days,
    )
    alerts = DynamoAlertRepository(table)
    sentiment = DynamoSentimentStore(table)

    def check(tickers: Sequence[str]) -> EvaluationSummary:
        return evaluate_alerts(
            tickers,
            alerts=alerts,
            sentiment=sentiment,
            volatility=volatility,
            mailer=mailer,
            clock=clock,
        )

    return check


def analysis_dependencies(
    settings: Settings, table: Table, guard: CallGuard, clock: Clock = utc_now
) -> AnalysisDependencies:
    return AnalysisDependencies(
        articles=DynamoArticleRepository(table),
        sentiment=DynamoSentimentStore(table),
        scorer=default_scorer(settings),
        clock=clock,
        check_alerts=alert_checker(settings, table, guard, clock),
    )


@cache
def deployed_analysis() -> AnalysisDependencies:
    """The Lambda function's collaborators, built on its first invocation."""
    settings = get_settings()
    table = dynamodb_table(settings)
    return analysis_dependencies(settings, table, table_guard(settings, table))
