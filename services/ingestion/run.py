"""One ingestion cycle: fetch every source in parallel, store new stories, publish them."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from services.adapters.models import NewsArticle, ProviderSentiment
from services.adapters.protocol import NewsSource, SentimentSource
from services.clock import Clock, iso
from services.ingestion.dedupe import merge
from services.messaging.publisher import Publisher
from services.resilience.guard import CallGuard
from services.scoring.ensemble import finnhub_signal
from services.store.articles import ArticleRepository
from services.store.sentiment import Sample, SentimentStore

# Finnhub's sentiment is one call per ticker: a few in flight at once, within its rate limit.
SENTIMENT_FETCH_WORKERS = 4


@dataclass(frozen=True)
class IngestionPolicy:
    lookback: timedelta = timedelta(hours=24)
    publish_batch_size: int = 25
    stale_pending_after: timedelta = timedelta(minutes=10)
    retention: timedelta = timedelta(days=400)


@dataclass
class IngestionSummary:
    started_at: str
    finished_at: str = ""
    tickers: list[str] = field(default_factory=list)
    fetched: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    stories: int = 0
    new: int = 0
    duplicates: int = 0
    published: int = 0
    republished: int = 0
    messages: int = 0
    sentiment_samples: int = 0


@dataclass(frozen=True)
class IngestionDependencies:
    news_sources: Sequence[NewsSource]
    sentiment_source: SentimentSource | None
    articles: ArticleRepository
    sentiment: SentimentStore
    publisher: Publisher
    guard: CallGuard
    clock: Clock
    policy: IngestionPolicy = IngestionPolicy()


def run_ingestion(tickers: Sequence[str], deps: IngestionDependencies) -> IngestionSummary:
    now = deps.clock()
    summary = IngestionSummary(started_at=iso(now), tickers=sorted(set(tickers)))
    if summary.tickers:
        fetched = _fetch_all(summary, now, deps)
        stories = merge(fetched, now=now, retention=deps.policy.retention)
        summary.stories = len(stories)
        new_keys = deps.articles.insert_many(list(stories.values()))
        summary.new = len(new_keys)
        summary.duplicates = summary.stories - summary.new
        summary.published = _publish(new_keys, deps, summary)
        _record_provider_sentiment(summary, now, deps)
    summary.republished = _republish_stale(now, deps, summary)
    summary.finished_at = iso(deps.clock())
    return summary


def _fetch_all(
    summary: IngestionSummary, now: datetime, deps: IngestionDependencies
) -> list[NewsArticle]:
    since = now - deps.policy.lookback

    def fetch(source: NewsSource) -> list[NewsArticle]:
        return deps.guard.call(source.name, lambda: source.fetch_news(summary.tickers, since, now))

    fetched: list[NewsArticle] = []
    with ThreadPoolExecutor(max_workers=max(1, len(deps.news_sources))) as pool:
        futures = {source.name: pool.submit(fetch, source) for source in deps.news_sources}
        for name, future in futures.items():
            try:
                articles = future.result()
            except Exception as error:
                # One source failing never stops the other: record it and carry on.
                summary.errors[name] = f"{type(error).__name__}: {error}"
                summary.fetched[name] = 0
                continue
            summary.fetched[name] = len(articles)
            fetched += articles
    return fetched


def _publish(keys: list[str], deps: IngestionDependencies, summary: IngestionSummary) -> int:
    size = deps.policy.publish_batch_size
    published = 0
    for start in range(0, len(keys), size):
        batch = keys[start : start + size]
        try:
            deps.publisher.publish({"article_keys": batch})
        except Exception as error:
            # Still pending in the table: the next cycle republishes it.
            summary.errors["publish"] = f"{type(error).__name__}: {error}"
            continue
        published += len(batch)
        summary.messages += 1
    return published


def _republish_stale(now: datetime, deps: IngestionDependencies, summary: IngestionSummary) -> int:
    """Self-healing: pending items older than the bound were lost in transit; send them again."""
    stale = deps.articles.list_by_status(
        "pending", before=now - deps.policy.stale_pending_after, limit=500
    )
    return _publish([a.dedup_key for a in stale], deps, summary)


def _record_provider_sentiment(
    summary: IngestionSummary, now: datetime, deps: IngestionDependencies
) -> None:
    """Finnhub's weekly figure per ticker (fetched in parallel) as the `finnhub` series."""
    source = deps.sentiment_source
    if source is None:
        return

    def fetch(ticker: str) -> ProviderSentiment:
        return deps.guard.call("finnhub", partial(source.fetch_sentiment, ticker))

    samples: list[Sample] = []
    with ThreadPoolExecutor(max_workers=SENTIMENT_FETCH_WORKERS) as pool:
        futures = {ticker: pool.submit(fetch, ticker) for ticker in summary.tickers}
        for ticker, future in futures.items():
            try:
                figures = future.result()
            except Exception as error:
                summary.errors["finnhub_sentiment"] = f"{type(error).__name__}: {error}"
                continue
            signal = finnhub_signal(
                figures.bullish_percent, figures.bearish_percent, figures.articles_in_last_week
            )
            if signal.confidence > 0:
                samples.append(Sample(ticker, "finnhub", signal.score))
    deps.sentiment.record_samples(samples, now)
    summary.sentiment_samples = len(samples)
