"""Batched article inserts on DynamoDB Local (and the fake): idempotent, race-safe, merging."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from services.analysis.buckets import ScoredArticle
from services.store import DynamoArticleRepository
from services.store.memory import InMemoryArticleRepository
from services.store.models import Article
from services.store.schema import BY_TAG
from services.store.sentiment import DynamoSentimentStore

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


def story(key: str, tickers=("AAPL",), sources=None) -> Article:
    return Article(
        dedup_key=key, title=f"story {key}", description="", url=f"https://n/{key}",
        published_at=NOW - timedelta(minutes=5), tickers=tickers,
        sources=sources or {"tiingo": key}, ingested_at=NOW,
    )  # fmt: skip


@pytest.fixture(params=["dynamodb_local", "memory"])
def articles(request, fresh_table):
    if request.param == "memory":
        return InMemoryArticleRepository(clock=lambda: NOW)
    return DynamoArticleRepository(fresh_table, clock=lambda: NOW)


def test_many_stories_go_in_once_across_transaction_boundaries(articles) -> None:
    # 150 stories with 2 tickers each: 450 operations, so several transactions.
    batch = [story(f"k{i:03}", ("AAPL", "MSFT")) for i in range(150)]
    assert sorted(articles.insert_many(batch)) == sorted(a.dedup_key for a in batch)
    assert articles.insert_many(batch) == []
    assert articles.count_by_status("pending") == 150
    since, until = NOW - timedelta(days=1), NOW
    assert len(articles.list_by_tag("MSFT", since=since, until=until)) == 150


def test_a_known_story_gains_a_new_source_and_ticker_but_keeps_the_first_ids(articles) -> None:
    articles.insert_many([story("s", ("AAPL",), {"tiingo": "t-1"})])
    again = story("s", ("AAPL", "NVDA"), {"tiingo": "t-other", "finnhub": "f-1"})

    assert articles.insert_many([again]) == []

    stored = articles.get("s")
    assert stored.sources == {"tiingo": "t-1", "finnhub": "f-1"}
    assert stored.tickers == ("AAPL", "NVDA")
    assert articles.list_by_tag("NVDA", since=NOW - timedelta(days=1), until=NOW) == ["s"]


def insert_at_once(table: Any, batch: list[Article], runs: int) -> list[list[str]]:
    """`runs` ingestion runs, each with its own repository, inserting `batch` at the same
    moment: what each said was new."""
    results: list[list[str]] = []
    barrier = threading.Barrier(runs)

    def run() -> None:
        repository = DynamoArticleRepository(table, clock=lambda: NOW)
        barrier.wait()
        results.append(repository.insert_many(batch))

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_runs_insert_each_story_exactly_once(fresh_table) -> None:
    batch = [story(f"r{i:03}", ("AAPL",)) for i in range(120)]

    results = insert_at_once(fresh_table, batch, runs=3)

    inserted = [key for result in results for key in result]
    assert sorted(inserted) == sorted(a.dedup_key for a in batch)  # each new exactly once
    tags = fresh_table.query(IndexName=BY_TAG.name, KeyConditionExpression=Key("tag").eq("AAPL"))
    assert len(tags["Items"]) == 120


def test_concurrent_reruns_never_put_an_analyzed_story_back_to_pending(fresh_table) -> None:
    # Given stories already analyzed
    articles = DynamoArticleRepository(fresh_table, clock=lambda: NOW)
    batch = [story(f"z{i:03}", ("AAPL", "MSFT")) for i in range(60)]
    articles.insert_many(batch)
    sentiment = DynamoSentimentStore(fresh_table)
    sentiment.record([ScoredArticle(a, 0.25, "positive", 0.9, "m1") for a in batch], NOW)
    # When two ingestion runs fetch them again at the same time
    results = insert_at_once(fresh_table, batch, runs=2)

    # Then nothing is new and every story keeps its analysis
    assert results == [[], []]
    assert articles.count_by_status("pending") == 0
    assert all(a.status == "analyzed" for a in articles.get_many([a.dedup_key for a in batch]))


def test_tag_entries_a_stopped_run_did_not_write_are_written_by_the_next(fresh_table) -> None:
    # Given stories whose articles were stored but whose tag entries were not (a run that
    # stopped between the two writes)
    articles = DynamoArticleRepository(fresh_table, clock=lambda: NOW)
    batch = [story(f"t{i}", ("AAPL", "MSFT")) for i in range(3)]
    inserted, _ = articles._insert_chunk(batch)
    assert len(inserted) == 3
    assert articles.list_by_tag("AAPL", since=NOW - timedelta(days=1), until=NOW) == []

    # When the next run fetches them again
    assert articles.insert_many(batch) == []

    # Then nothing is new, and the tag entries are there
    since, until = NOW - timedelta(days=1), NOW
    for ticker in ("AAPL", "MSFT"):
        assert sorted(articles.list_by_tag(ticker, since=since, until=until)) == ["t0", "t1", "t2"]


def test_a_story_a_concurrent_run_stored_first_gains_this_runs_ticker(fresh_table) -> None:
    # Given a run that read the table before a concurrent run stored the story (AAPL only)
    class ReadTooEarly(DynamoArticleRepository):
        reads = 0

        def _read_stored(self, articles):  # type: ignore[no-untyped-def]
            self.reads += 1
            if self.reads == 1:
                return {}, set()  # what the table held when this run looked
            return super()._read_stored(articles)

    DynamoArticleRepository(fresh_table, clock=lambda: NOW).insert_many(
        [story("race", ("AAPL",), {"finnhub": "f-1"})]
    )
    late = ReadTooEarly(fresh_table, clock=lambda: NOW)

    # When its insert fails on the not-exists condition
    assert late.insert_many([story("race", ("AAPL", "NVDA"), {"tiingo": "t-1"})]) == []

    # Then it merges into what the other run stored: both attributions, both tickers, tags
    stored = late.get("race")
    assert stored.sources == {"finnhub": "f-1", "tiingo": "t-1"}
    assert stored.tickers == ("AAPL", "NVDA")
    since, until = NOW - timedelta(days=1), NOW
    assert late.list_by_tag("NVDA", since=since, until=until) == ["race"]
    assert late.list_by_tag("AAPL", since=since, until=until) == ["race"]
