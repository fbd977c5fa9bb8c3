"""The census of the in-memory store: the items the table would hold for what the memory
repositories hold, counted the way `table_census` counts a scan.

Each repository's contents are mapped to the keys (and index attributes) its DynamoDB twin
writes, so entities and indexes are named and counted as the operator sees them on the
table. Everything is read, so counts are exact unless `max_items` cuts the read short.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from services.clock import iso
from services.store import keys
from services.store.alerts import alert_tag
from services.store.cache_counts import CACHE_COUNTS
from services.store.census import TOP_VALUES, BoundedCount
from services.store.metrics import API_MINUTES, SNAPSHOTS
from services.store.outbox import notify_tag, status_value
from services.store.preferences import PREFERENCES
from services.store.schema import (
    BY_SENTIMENT,
    BY_STATUS,
    BY_TAG,
    GLOBAL_INDEXES,
    PARTITION_KEY,
    SORT_KEY,
)
from services.store.users import email_hash

if TYPE_CHECKING:
    from services.store.memory.store import MemoryStore

Item = dict[str, str]


class StoreUnavailableError(ConnectionError):
    """The in-memory store was switched off to stand for an unreachable table."""


class InMemoryTableCensus:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        # Set to a reason to make `probe` fail as an unreachable table would.
        self.unavailable: str | None = None

    def probe(self) -> None:
        if self.unavailable is not None:
            raise StoreUnavailableError(self.unavailable)

    def count_status(self, status: str, *, now: datetime, max_pages: int) -> BoundedCount:
        articles = self._store.articles.articles.values()
        live = sum(
            1
            for a in articles
            if a.status == status and (a.expires_at is None or a.expires_at > now)
        )
        return BoundedCount(live, complete=True)

    def census(self, *, max_items: int) -> dict[str, Any]:
        everything = sorted(table_items(self._store), key=lambda i: (i[PARTITION_KEY], i[SORT_KEY]))
        read = everything[: max(0, max_items)]
        complete = len(read) == len(everything)
        entities = Counter(keys.entity_of(i[PARTITION_KEY], i[SORT_KEY]) for i in read)
        return {
            "table": "memory",
            "items": len(read),
            "entities": dict(sorted(entities.items(), key=lambda e: (-e[1], e[0]))),
            "indexes": _index_counts(read),
            "truncated": not complete,
            # Nothing is scaled up from a sample: a cut read gives lower bounds.
            "estimated": False,
            "scanned_items": len(read),
            "sampled_fraction": 1.0 if complete else 0.0,
            "max_items": max_items,
            "described": {},
        }


def _index_counts(items: list[Item]) -> dict[str, Any]:
    indexes: dict[str, Any] = {}
    for index in GLOBAL_INDEXES:
        values = Counter(
            i[index.partition_key]
            for i in items
            if index.partition_key in i and index.sort_key in i
        )
        indexes[index.name] = {
            "partition_key": index.partition_key,
            "sort_key": index.sort_key,
            "items": sum(values.values()),
            "distinct_values": len(values),
            "top_values": dict(values.most_common(TOP_VALUES)),
        }
    return indexes


def table_items(store: MemoryStore) -> Iterator[Item]:
    """The keys and index attributes of every item the table would hold."""
    yield from _account_items(store)
    yield from _notification_items(store)
    yield from _article_items(store)
    yield from _resilience_items(store)
    yield from _record_items(store)


def _account_items(store: MemoryStore) -> Iterator[Item]:
    for user in store.users.users.values():
        yield keys.user_profile(user.user_id)
        if user.email:
            yield keys.email_owner(email_hash(user.email))
            if user.auth_type != "anonymous":
                yield keys.account_entry(user.user_id)
        if user.auth_type == "anonymous" and user.expires_at is not None:
            yield keys.anonymous_expiry(iso(user.expires_at), user.user_id)
    for session in store.sessions.by_token.values():
        yield keys.user_session(session.user_id, session.session_id)
        yield keys.token(session.token_hash)
    for token_hash in store.tokens.tokens:
        yield keys.token(token_hash)
    configs = store.configurations.configs.values()
    for config in configs:
        yield keys.user_config(config.user_id, config.config_id)
    # A watcher count stays in the table at zero once its last configuration went.
    for ticker in sorted({t for c in configs for t in c.tickers}):
        yield keys.tracked_ticker(ticker)
    for user_id in store.preferences.preferences:
        yield {PARTITION_KEY: keys.user_pk(user_id), SORT_KEY: PREFERENCES}


def _notification_items(store: MemoryStore) -> Iterator[Item]:
    for alert in store.alerts.alerts.values():
        yield {
            **keys.config_alert(alert.config_id, alert.alert_id),
            BY_TAG.partition_key: alert_tag(alert.ticker),
            BY_TAG.sort_key: iso(alert.created_at),
        }
    for user_id, day in store.alerts.email_counts:
        yield keys.user_email_count(user_id, day)
    for email in store.outbox.emails.values():
        item = {
            **keys.outbox_email(email.email_id),
            BY_STATUS.partition_key: status_value(email.state),
            BY_STATUS.sort_key: iso(email.queue_time),
        }
        if email.user_id:
            item[BY_TAG.partition_key] = notify_tag(email.user_id)
        yield item


def _article_items(store: MemoryStore) -> Iterator[Item]:
    for article in store.articles.articles.values():
        entered = iso(article.analyzed_at or article.ingested_at)
        item = {
            **keys.article(article.dedup_key),
            BY_STATUS.partition_key: article.status,
            BY_STATUS.sort_key: entered,
        }
        if article.sentiment_label:
            item[BY_SENTIMENT.partition_key] = article.sentiment_label
        yield item
        for ticker in article.tickers:
            yield {
                **keys.article_tag(article.dedup_key, ticker),
                BY_TAG.partition_key: ticker,
                BY_TAG.sort_key: iso(article.published_at),
            }
    for bucket_id in store.sentiment.buckets:
        yield keys.sentiment_bucket(*bucket_id)


def _resilience_items(store: MemoryStore) -> Iterator[Item]:
    for service in store.circuits.records:
        yield keys.circuit(service)
    # The log's position stands for the record version that keeps two changes apart.
    for position, (transition, _) in enumerate(store.circuits.log):
        yield keys.circuit_transition(iso(transition.at), transition.service, position)
    for service, period in store.quotas.counts:
        yield keys.quota(service, period)
    for service, period in store.quotas.symbol_sets:
        yield keys.quota_symbols(service, period)
    for name, subject_hash, period in store.allowances.counts:
        yield keys.allowance(name, subject_hash, period)
    for provider, endpoint in store.entitlements.items:
        yield keys.entitlement(provider, endpoint)
    for window_start, instances in store.rate_windows.windows.items():
        for instance in instances:
            yield keys.rate_window(window_start, instance, 0)


def _record_items(store: MemoryStore) -> Iterator[Item]:
    for (ticker, resolution, range_name), _ in store.ohlc_cache.entries.items():
        yield keys.ohlc_cache(ticker, resolution, range_name)
    for sort_key in store.metrics.minutes:
        yield {PARTITION_KEY: API_MINUTES, SORT_KEY: sort_key}
    for sort_key in store.metrics.snapshot_texts:
        yield {PARTITION_KEY: SNAPSHOTS, SORT_KEY: sort_key}
    for instance in store.cache_counts.published:
        yield {PARTITION_KEY: CACHE_COUNTS, SORT_KEY: instance}
    for started_at in store.ingestion_runs.runs:
        yield keys.ingestion_run(started_at)
    for topic, message_id in store.dead_letters.letters:
        yield keys.dead_letter(topic, message_id)
    if store.backfill.get() is not None:
        # `services.store.backfill`'s one item.
        yield {PARTITION_KEY: "BACKFILL", SORT_KEY: "STATE"}
