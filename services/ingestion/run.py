"""One ingestion cycle: fetch every source in parallel, store new stories, publish them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from itertools import chain, zip_longest
from typing import Protocol

from services.adapters.errors import ProviderNotEntitledError
from services.adapters.models import NewsArticle, ProviderSentiment
from services.adapters.plans import Endpoint
from services.adapters.protocol import NewsSource, SentimentSource
from services.analysis.buckets import BucketId, Sample, article_bucket_ids
from services.clock import Clock, iso
from services.ingestion.dedupe import merge
from services.messaging.publisher import Publisher
from services.resilience.guard import CallGuard
from services.scoring.ensemble import finnhub_signal
from services.store.articles import ArticleRepository
from services.store.items import MAX_TRANSACTION_ITEMS
from services.store.models import Article
from services.store.sentiment import SentimentStore

# Finnhub's sentiment is one call per ticker: a few in flight at once, within its rate limit.
SENTIMENT_FETCH_WORKERS = 4


@dataclass(frozen=True)
class IngestionPolicy:
    lookback: timedelta = timedelta(hours=24)
    publish_batch_size: int = 25
    stale_pending_after: timedelta = timedelta(minutes=10)
    retention: timedelta = timedelta(days=400)
    # Batches stored (and then published) at once: while one waits for DynamoDB, the next
    # is being serialised, and analysis starts on the first batch before the last is stored.
    store_concurrency: int = 2


class EntitlementGate(Protocol):
    """Which endpoints may be called (`services/resilience/entitlements.py`)."""

    def check(self, provider: str, endpoint: Endpoint) -> None: ...

    def record(self, error: ProviderNotEntitledError) -> None: ...


@dataclass
class IngestionSummary:
    started_at: str
    finished_at: str = ""
    tickers: list[str] = field(default_factory=list)
    fetched: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # Sources not called because the key's plan does not include them, with why: not errors.
    not_entitled: dict[str, str] = field(default_factory=dict)
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
    entitlements: EntitlementGate | None = None


def run_ingestion(tickers: Sequence[str], deps: IngestionDependencies) -> IngestionSummary:
    now = deps.clock()
    summary = IngestionSummary(started_at=iso(now), tickers=sorted(set(tickers)))
    if summary.tickers:
        fetched = _fetch_all(summary, now, deps)
        stories = merge(fetched, now=now, retention=deps.policy.retention)
        summary.stories = len(stories)
        _store_and_publish(list(stories.values()), deps, summary)
        summary.duplicates = summary.stories - summary.new
        _record_provider_sentiment(summary, now, deps)
    summary.republished = _republish_stale(now, deps, summary)
    summary.finished_at = iso(deps.clock())
    return summary


def _fetch_all(
    summary: IngestionSummary, now: datetime, deps: IngestionDependencies
) -> list[NewsArticle]:
    since = now - deps.policy.lookback

    def fetch(source: NewsSource) -> list[NewsArticle]:
        """One quota unit per HTTP request: those the source declares are counted (or
        refused) before it runs, further pages after; the tickers count as symbols where a
        plan caps them."""
        _check_entitled(deps, source.name, source.news_endpoint)
        declared = source.news_requests(summary.tickers)
        ran = False

        def run() -> list[NewsArticle]:
            nonlocal ran
            ran = True
            return source.fetch_news(summary.tickers, since, now)

        try:
            return deps.guard.call(source.name, run, units=declared, symbols=summary.tickers)
        finally:
            if ran and source.last_requests > declared:
                deps.guard.count(source.name, source.last_requests - declared)

    fetched: list[NewsArticle] = []
    with ThreadPoolExecutor(max_workers=max(1, len(deps.news_sources))) as pool:
        futures = {source.name: pool.submit(fetch, source) for source in deps.news_sources}
        for name, future in futures.items():
            try:
                articles = future.result()
            except ProviderNotEntitledError as error:
                _not_entitled(deps, summary, name, error)
                summary.fetched[name] = 0
                continue
            except Exception as error:
                # One source failing never stops the other: record it and carry on.
                summary.errors[name] = f"{type(error).__name__}: {error}"
                summary.fetched[name] = 0
                continue
            summary.fetched[name] = len(articles)
            fetched += articles
    return fetched


def _check_entitled(deps: IngestionDependencies, provider: str, endpoint: Endpoint) -> None:
    if deps.entitlements is not None:
        deps.entitlements.check(provider, endpoint)


def _not_entitled(
    deps: IngestionDependencies,
    summary: IngestionSummary,
    name: str,
    error: ProviderNotEntitledError,
) -> None:
    """A source the plan lacks is noted, not an error. A refusal the provider made (it has a
    status; the gate's own has none) is recorded, so no instance asks again."""
    if error.status is not None and deps.entitlements is not None:
        deps.entitlements.record(error)
    summary.not_entitled[name] = error.reason


def publish_batches(articles: Sequence[Article], size: int) -> list[list[Article]]:
    """Messages of at most `size` articles, each about one ticker, the tickers taking turns.

    Analysis records a message's articles and their sums in the ticker's time buckets in
    one transaction (at most 100 items: articles plus the distinct buckets they touch). A
    message about one ticker, packed so that stories feeding the same buckets travel
    together, touches a handful of buckets, so a transaction carries ~95 articles instead
    of ~60 and bucket writes drop from about one per two articles to a few per message.
    Consecutive messages, which the topic's workers handle at the same time, are about
    different tickers, so they do not race for the same buckets.
    """
    # A story naming several tickers joins the group of its most common one (the tracked
    # company rather than a peer it was compared with), so peers make no tiny messages.
    mentions = Counter(t for article in articles for t in article.tickers)
    by_ticker: dict[str, list[tuple[tuple[str, ...], tuple[BucketId, ...], Article]]] = {}
    for article in articles:
        main = max(article.tickers, key=lambda t: (mentions[t], t), default="")
        peers = tuple(sorted(set(article.tickers) - {main}))
        buckets = tuple(sorted(article_bucket_ids(article)))
        by_ticker.setdefault(main, []).append((peers, buckets, article))
    per_ticker = []
    for group in by_ticker.values():
        # One-ticker stories first, in time order; then those naming each set of peers.
        group.sort(key=lambda entry: (entry[0], entry[1], entry[2].published_at))
        per_ticker.append(_pack(group, max(1, size)))
    return [batch for batch in chain.from_iterable(zip_longest(*per_ticker)) if batch]


def _pack(
    group: list[tuple[tuple[str, ...], tuple[BucketId, ...], Article]], size: int
) -> list[list[Article]]:
    """Consecutive runs of the group that fit one analysis transaction each."""
    batches: list[list[Article]] = []
    batch: list[Article] = []
    buckets: set[BucketId] = set()
    for _, mine, article in group:
        merged = buckets.union(mine)
        if batch and (len(batch) >= size or len(batch) + 1 + len(merged) > MAX_TRANSACTION_ITEMS):
            batches.append(batch)
            batch, merged = [], set(mine)
        batch.append(article)
        buckets = merged
    if batch:
        batches.append(batch)
    return batches


def _store_and_publish(
    stories: Sequence[Article], deps: IngestionDependencies, summary: IngestionSummary
) -> None:
    """Insert each message's worth of stories, then publish the ones that were new.

    A batch is published as soon as it is stored (never before: analysis must find the
    items), so analysis overlaps with the rest of the inserts. An error in one batch still
    lets the others finish, then fails the cycle; what was stored and not published stays
    pending and is republished once stale.
    """

    def store(batch: list[Article]) -> tuple[list[str], str | None]:
        new_keys = deps.articles.insert_many(batch)
        return new_keys, _publish_one(new_keys, deps)

    batches = publish_batches(stories, deps.policy.publish_batch_size)
    workers = max(1, min(deps.policy.store_concurrency, len(batches)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for new_keys, error in pool.map(store, batches):
            summary.new += len(new_keys)
            summary.published += _count_published(new_keys, error, summary)


def _publish_one(keys: list[str], deps: IngestionDependencies) -> str | None:
    """Publish one message of keys; the error text if it failed (the keys stay pending)."""
    if not keys:
        return None
    try:
        deps.publisher.publish({"article_keys": keys})
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def _count_published(keys: list[str], error: str | None, summary: IngestionSummary) -> int:
    """How many keys a publish sent (0 if it failed: they stay pending, and the next cycle
    republishes them)."""
    if not keys:
        return 0
    if error is not None:
        summary.errors["publish"] = error
        return 0
    summary.messages += 1
    return len(keys)


def _republish_stale(now: datetime, deps: IngestionDependencies, summary: IngestionSummary) -> int:
    """Self-healing: pending items older than the bound were lost in transit; send them again."""
    stale = deps.articles.list_by_status(
        "pending", before=now - deps.policy.stale_pending_after, limit=500
    )
    republished = 0
    for batch in publish_batches(stale, deps.policy.publish_batch_size):
        keys = [a.dedup_key for a in batch]
        republished += _count_published(keys, _publish_one(keys, deps), summary)
    return republished


def _record_provider_sentiment(
    summary: IngestionSummary, now: datetime, deps: IngestionDependencies
) -> None:
    """Finnhub's weekly figure per ticker (fetched in parallel) as the `finnhub` series."""
    source = deps.sentiment_source
    if source is None:
        return
    try:
        _check_entitled(deps, "finnhub", "news_sentiment")
    except ProviderNotEntitledError as error:
        _not_entitled(deps, summary, "finnhub_sentiment", error)
        return

    def fetch(ticker: str) -> ProviderSentiment:
        return deps.guard.call("finnhub", partial(source.fetch_sentiment, ticker))

    samples: list[Sample] = []
    with ThreadPoolExecutor(max_workers=SENTIMENT_FETCH_WORKERS) as pool:
        futures = {ticker: pool.submit(fetch, ticker) for ticker in summary.tickers}
        for ticker, future in futures.items():
            try:
                figures = future.result()
            except ProviderNotEntitledError as error:
                _not_entitled(deps, summary, "finnhub_sentiment", error)
                continue
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
