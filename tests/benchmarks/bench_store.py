"""DynamoDB Local start-up, and GetItem / GSI query latency through the repositories."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from services.local.dynamodb_local import DynamoDBLocal
from services.settings import Settings
from services.store import DynamoArticleRepository, DynamoUserRepository
from services.store.models import Article, User
from services.store.table import dynamodb_client, dynamodb_table, ensure_table
from tests.benchmarks.harness import BenchmarkResult, Context, benchmark, latency_summary

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@benchmark("dynamodb_local_startup")
def startup(ctx: Context) -> BenchmarkResult:
    result = BenchmarkResult("dynamodb_local_startup", "Java start until ListTables answers")
    durations = []
    for _ in range(ctx.n(3, 1)):
        started = time.perf_counter()
        server = DynamoDBLocal(root=ctx.root, port=0).start()
        durations.append(time.perf_counter() - started)
        server.stop()
    result.add("startup_mean", statistics.fmean(durations), "s")
    result.add("startup_max", max(durations), "s")
    return result


@benchmark("store_latency")
def store_latency(ctx: Context) -> BenchmarkResult:
    result = BenchmarkResult(
        "store_latency", "UserRepository.get and ArticleRepository.list_by_tag on DynamoDB Local"
    )
    server = DynamoDBLocal(root=ctx.root, port=0).start()
    try:
        settings = Settings(
            dynamodb_endpoint=server.endpoint, table_name=f"bench-{uuid.uuid4().hex[:6]}"
        )
        ensure_table(dynamodb_client(settings), settings.table_name)
        table = dynamodb_table(settings)
        users = DynamoUserRepository(table)
        articles = DynamoArticleRepository(table, clock=lambda: NOW)
        user_ids = [f"u{i}" for i in range(50)]
        for user_id in user_ids:
            users.create(User(user_id, "anonymous", created_at=NOW))
        for i in range(200):
            articles.insert(
                Article(
                    dedup_key=f"a{i}", title=f"story {i}", description="", url=f"https://x/{i}",
                    published_at=NOW - timedelta(minutes=i), tickers=("AAPL" if i % 2 else "MSFT",),
                    sources={"tiingo": str(i)}, ingested_at=NOW,
                )
            )  # fmt: skip
        for _ in range(20):  # warm the connection pool
            users.get(user_ids[0])
        samples = []
        for i in range(ctx.n(1000, 100)):
            started = time.perf_counter()
            users.get(user_ids[i % len(user_ids)])
            samples.append(time.perf_counter() - started)
        latency_summary(result, "get_item", samples)
        samples = []
        for _ in range(ctx.n(300, 50)):
            started = time.perf_counter()
            found = articles.list_by_tag("AAPL", since=NOW - timedelta(days=1), until=NOW)
            samples.append(time.perf_counter() - started)
        result.details["gsi_query_items"] = len(found)
        latency_summary(result, "gsi_query", samples)
    finally:
        server.stop()
    return result
