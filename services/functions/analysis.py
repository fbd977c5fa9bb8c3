"""The analysis function: SNS messages of article keys in, scores and buckets recorded."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from services.analysis.analyze import TextScorer, analyze
from services.clock import Clock, utc_now
from services.messaging.publisher import messages_from_sns_event
from services.observability import get_logger
from services.scoring.text_model import TextSentimentModel
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


@cache
def _default() -> AnalysisDependencies:
    table = dynamodb_table(get_settings())
    return AnalysisDependencies(
        articles=DynamoArticleRepository(table),
        sentiment=DynamoSentimentStore(table),
        scorer=TextSentimentModel.load(),
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
        LOGGER.info("analysis batch", extra={"message_id": message_id, **asdict(summary)})
        results.append(asdict(summary))
    return {"batches": results}
