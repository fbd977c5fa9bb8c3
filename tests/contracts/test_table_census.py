"""The in-memory census against the table's: the same writes through the in-memory
repositories and the DynamoDB ones give the same items per entity and per index, and the
same article counts by status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from services.adapters.models import Candle
from services.analysis.buckets import ScoredArticle
from services.clock import iso
from services.store.alerts import DynamoAlertRepository, daily_email_operation
from services.store.allowances import DynamoAllowanceStore
from services.store.articles import DynamoArticleRepository
from services.store.backfill import BackfillState, DynamoBackfillRepository
from services.store.cache_counts import DynamoCacheCounts, PublishedCaches
from services.store.census import BoundedCount, count_status, table_census
from services.store.circuits import CircuitRecord, CircuitTransition, DynamoCircuitStore
from services.store.configurations import DynamoConfigurationRepository
from services.store.dead_letters import DynamoDeadLetterRepository
from services.store.entitlements import DynamoEntitlementStore, Refusal
from services.store.ingestion_runs import DynamoIngestionRunRepository
from services.store.memory import MemoryStore, StoreUnavailableError
from services.store.metrics import DynamoMetricsStore
from services.store.models import Alert, Article, Configuration, Session, SingleUseToken, User
from services.store.ohlc_cache import CachedCandles, DynamoOhlcCache
from services.store.outbox import DynamoOutbox, OutboxEmail
from services.store.preferences import DynamoPreferenceRepository
from services.store.quotas import DynamoQuotaStore
from services.store.rate_windows import DynamoRateWindows
from services.store.sentiment import DynamoSentimentStore
from services.store.sessions import DynamoSessionRepository
from services.store.tokens import DynamoTokenRepository
from services.store.users import DynamoUserRepository

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def dynamo_repositories(table: Any) -> SimpleNamespace:
    """The DynamoDB twins of `MemoryStore`'s repositories, over one table."""
    return SimpleNamespace(
        users=DynamoUserRepository(table),
        sessions=DynamoSessionRepository(table),
        tokens=DynamoTokenRepository(table),
        configurations=DynamoConfigurationRepository(table),
        alerts=DynamoAlertRepository(table),
        preferences=DynamoPreferenceRepository(table),
        outbox=DynamoOutbox(table),
        articles=DynamoArticleRepository(table, lambda: NOW),
        sentiment=DynamoSentimentStore(table),
        ohlc_cache=DynamoOhlcCache(table),
        metrics=DynamoMetricsStore(table),
        cache_counts=DynamoCacheCounts(table),
        rate_windows=DynamoRateWindows(table),
        allowances=DynamoAllowanceStore(table),
        circuits=DynamoCircuitStore(table),
        quotas=DynamoQuotaStore(table),
        entitlements=DynamoEntitlementStore(table),
        ingestion_runs=DynamoIngestionRunRepository(table),
        backfill=DynamoBackfillRepository(table),
        dead_letters=DynamoDeadLetterRepository(table),
    )


def fill_accounts(store: Any) -> None:
    store.users.create(User("guest", "anonymous", NOW, expires_at=LATER))
    store.users.create(User("acct", "email", NOW, email="jane@example.com"))
    store.sessions.create(Session("s1", "guest", "anonymous", "hash-1", NOW, LATER))
    store.tokens.put(SingleUseToken("hash-2", "magic_link", "jane@example.com", NOW, LATER))
    config = Configuration("c1", "acct", "Tech", ("AAPL", "MSFT"), NOW, NOW)
    store.configurations.create(config, max_allowed=2)
    store.preferences.update("acct", NOW, digest_emails=False)
    rule = Alert("a1", "acct", "c1", "AAPL", "sentiment_threshold", "below", -0.2, True, NOW, NOW)
    store.alerts.put(rule, max_allowed=2)
    email = OutboxEmail(
        "alert:a1", "alert", "acct", "jane@example.com", "AAPL", "text", NOW, LATER, NOW
    )
    daily = daily_email_operation("acct", NOW.date(), 5, timedelta(days=2))
    store.outbox.enqueue(email, with_operations=[daily])


def an_article(key: str, tickers: tuple[str, ...]) -> Article:
    return Article(key, f"title {key}", "", f"https://news.example/{key}", NOW, tickers,
                   {"tiingo": key}, NOW)  # fmt: skip


def fill_articles(store: Any) -> None:
    articles = [an_article("k1", ("AAPL", "MSFT")), an_article("k2", ("AAPL",))]
    articles.append(an_article("k3", ("TSLA",)))
    store.articles.insert_many(articles)
    scored = [ScoredArticle(articles[0], 0.6, "positive", 0.9, "m1")]
    store.sentiment.record(scored, NOW + timedelta(minutes=5))


def fill_resilience(store: Any) -> None:
    opened = CircuitRecord("tiingo", state="open", opened_at=NOW, changed_at=NOW)
    change = CircuitTransition("tiingo", "closed", "open", NOW, "5 failures", 5)
    store.circuits.save(opened, transition=change)
    store.quotas.add("tiingo", "2026-11-24", 3, now=NOW, expires_at=LATER)
    store.quotas.add_symbols("tiingo", "2026-11", {"AAPL"}, cap=None, now=NOW, expires_at=LATER)
    store.allowances.take("sign_in", "h1", "2026-11-24T12", limit=3, now=NOW, expires_at=LATER)
    store.entitlements.record(Refusal("finnhub", "news", "not in plan", NOW))
    store.rate_windows.publish(1_700_000_000, "i-1", {"ip:1": 3}, 1_700_000_100)


def fill_records(store: Any) -> None:
    bar = Candle(NOW, 1.0, 2.0, 0.5, 1.5, 10)
    cached = CachedCandles("AAPL", "D", "1M", (bar,), NOW.date(), NOW.date(), "tiingo", NOW, LATER)
    store.ohlc_cache.put(cached, LATER)
    store.metrics.put_api_minute(NOW, "i-1", {"requests": 1}, {})
    store.metrics.put_snapshot({"n": 1}, NOW)
    store.cache_counts.publish(PublishedCaches("i-1", None, NOW, {}))
    store.ingestion_runs.save({"started_at": iso(NOW)})
    store.dead_letters.save("articles", "m1", {}, "boom", NOW)
    store.backfill.save(BackfillState(status="done"))


def fill(store: Any) -> None:
    fill_accounts(store)
    fill_articles(store)
    fill_resilience(store)
    fill_records(store)


def comparable(census: dict[str, Any]) -> dict[str, Any]:
    """What both censuses must agree on: counts, not where the figures came from."""
    indexes = {
        name: (index["items"], index["distinct_values"], index["top_values"])
        for name, index in census["indexes"].items()
    }
    return {"items": census["items"], "entities": census["entities"], "indexes": indexes}


@pytest.fixture
def memory() -> MemoryStore:
    store = MemoryStore.empty(lambda: NOW)
    fill(store)
    return store


@pytest.mark.integration
def test_the_same_writes_give_the_same_census(memory: MemoryStore, fresh_table: Any) -> None:
    fill(dynamo_repositories(fresh_table))

    on_table = table_census(fresh_table, max_items=1000)

    assert comparable(memory.census.census(max_items=1000)) == comparable(on_table)
    for status in ("pending", "analyzed"):
        counted = count_status(fresh_table, status, now=NOW, max_pages=2)
        assert memory.census.count_status(status, now=NOW, max_pages=2) == counted


@pytest.mark.unit
def test_the_census_names_every_entity_and_counts_articles_by_status(
    memory: MemoryStore,
) -> None:
    census = memory.census.census(max_items=1000)

    assert (census["truncated"], census["estimated"], census["max_items"]) == (False, False, 1000)
    assert census["entities"]["article"] == 3
    assert census["entities"]["article_tag"] == 4
    assert census["indexes"]["by_status"]["top_values"]["pending"] == 2
    assert census["scanned_items"] == census["items"] == sum(census["entities"].values())
    assert memory.census.count_status("pending", now=NOW, max_pages=1) == BoundedCount(2, True)


@pytest.mark.unit
def test_a_census_within_a_budget_is_a_lower_bound(memory: MemoryStore) -> None:
    census = memory.census.census(max_items=5)

    assert (census["items"], census["scanned_items"], census["truncated"]) == (5, 5, True)
    assert census["estimated"] is False


@pytest.mark.unit
def test_a_switched_off_store_fails_its_probe(memory: MemoryStore) -> None:
    memory.census.probe()
    memory.census.unavailable = "the table is down"

    probe: Callable[[], None] = memory.census.probe
    with pytest.raises(StoreUnavailableError, match="down"):
        probe()
