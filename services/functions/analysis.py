"""The analysis function: SNS messages of article keys in, scores and buckets recorded."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from services.analysis.analyze import TextScorer, analyze
from services.clock import Clock, utc_now
from services.composition import AlertChecker, alert_checker, resilient_guard
from services.messaging.publisher import messages_from_sns_event
from services.observability import get_logger
from services.scoring import default_scorer
from services.settings import get_settings
from services.store.articles import ArticleRepository, DynamoArticleRepository
from services.store.sentiment import DynamoSentimentStore, SentimentStore
from services.store.table import dynamodb_table

LOGGER = get_logger("analysis")


class PoisonMessageError(ValueError):
    """A message without a list of article keys: retrying cannot fix it."""


@dataclass(frozen=True)
class AnalysisDependencies:
    articles: ArticleRepository
    sentiment: SentimentStore
    scorer: TextScorer
    clock: Clock = utc_now
    # Checks the alert rules of the tickers a batch touched (None: no alerting wired).
    check_alerts: AlertChecker | None = None


@cache
def _default() -> AnalysisDependencies:
    settings = get_settings()
    table = dynamodb_table(settings)
    return AnalysisDependencies(
        articles=DynamoArticleRepository(table),
        sentiment=DynamoSentimentStore(table),
        scorer=default_scorer(settings),
        check_alerts=alert_checker(settings, table, resilient_guard(settings, table)),
    )


def handler(
    event: dict[str, Any], context: Any, deps: AnalysisDependencies | None = None
) -> dict[str, Any]:
    deps = deps or _default()
    results = []
    for message_id, message in messages_from_sns_event(event):
        keys = message.get("article_keys")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise PoisonMessageError(f"message {message_id} has no list of article_keys")
        summary = analyze(
            keys,
            articles=deps.articles,
            sentiment=deps.sentiment,
            scorer=deps.scorer,
            clock=deps.clock,
        )
        result = asdict(summary)
        if deps.check_alerts is not None and summary.tickers:
            # After the scores are stored: a failure here retries the message, and the
            # retry finds the stories analyzed and only checks the rules again.
            result["alerts"] = asdict(deps.check_alerts(summary.tickers))
        LOGGER.info("analysis batch", extra={"message_id": message_id, **result})
        results.append(result)
    return {"batches": results}
