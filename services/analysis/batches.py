"""The analysis function's work: each message's article keys scored, then their tickers'
alert rules checked."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from services.alerts.evaluate import EvaluationSummary
from services.analysis.analyze import TextScorer, analyze
from services.clock import Clock, utc_now
from services.observability import get_logger
from services.store.articles import ArticleRepository
from services.store.sentiment import SentimentStore

LOGGER = get_logger("analysis")

# Checks the alert rules of the tickers an analysis batch touched.
AlertChecker = Callable[[Sequence[str]], EvaluationSummary]


@dataclass(frozen=True)
class AnalysisDependencies:
    articles: ArticleRepository
    sentiment: SentimentStore
    scorer: TextScorer
    clock: Clock = utc_now
    # Checks the alert rules of the tickers a batch touched (None: no alerting wired).
    check_alerts: AlertChecker | None = None


def analyze_batches(
    batches: Iterable[tuple[str, list[str]]], deps: AnalysisDependencies
) -> dict[str, Any]:
    """Scores each batch of article keys; `batches` yields (message id, article keys)."""
    results = []
    for message_id, keys in batches:
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
