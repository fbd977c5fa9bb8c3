"""The news pipeline end to end on the embedded stack: DynamoDB Local, the provider emulators
over HTTP, the local topic and the scheduler, checked against the emulators' oracle."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from boto3.dynamodb.conditions import Attr, Key

from services.ingestion.dedupe import canonical_url
from services.local.paths import LocalPaths
from services.local.stack import LocalStack, StackOptions
from services.scoring.relevance import RelevanceScorer
from services.settings import Settings
from services.store.schema import BY_SENTIMENT, BY_STATUS, BY_TAG
from services.store.table import dynamodb_table

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

WATCHLIST = ["AAPL", "MSFT", "JPM"]


@pytest.fixture
def stack(tmp_path: Path, root: Path) -> Iterator[LocalStack]:
    settings = Settings(
        default_watchlist=",".join(WATCHLIST),
        ingestion_interval_s=1.0,  # the scheduler runs cycles quickly for the test
        stale_pending_after_s=600,
    )
    options = StackOptions(
        paths=LocalPaths(root=root, state_dir_override=tmp_path / "state"),
        settings=settings,
        api_port=0,
        dynamodb_port=0,
        in_memory=True,
    )
    running = LocalStack(options).start()
    yield running
    running.stop()


def operator(stack: LocalStack) -> dict[str, str]:
    token = stack.options.paths.operator_token_file.read_text().strip()
    return {"Authorization": f"Bearer {token}"}


def api(stack: LocalStack) -> str:
    assert stack.api is not None
    return stack.api.url


def emulator_roots(stack: LocalStack) -> dict[str, str]:
    pipeline = stack.pipeline
    assert pipeline is not None and pipeline.tiingo and pipeline.finnhub
    return {"tiingo": pipeline.tiingo.root_url, "finnhub": pipeline.finnhub.root_url}


def emitted(stack: LocalStack) -> dict[str, dict[str, Any]]:
    """The oracle, over HTTP: canonical URL -> story, with the providers that returned it."""
    stories: dict[str, dict[str, Any]] = {}
    for provider, root in emulator_roots(stack).items():
        for story in httpx.get(f"{root}/_emulator/emitted").json():
            entry = stories.setdefault(canonical_url(story["url"]), {**story, "returned_by": set()})
            entry["returned_by"].add(provider)
    return stories


def inject(stack: LocalStack, ticker: str, count: int) -> None:
    root = emulator_roots(stack)["tiingo"]
    response = httpx.post(f"{root}/_emulator/news", json={"ticker": ticker, "count": count})
    assert response.status_code == 201, response.text


def settle(stack: LocalStack, timeout_s: float = 120.0) -> None:
    """Wait until no message is in flight and nothing is pending."""
    assert stack.pipeline is not None and stack.pipeline.topic is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stack.pipeline.topic.drain(timeout_s=5) and pending(stack) == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{pending(stack)} items still pending")


def pending(stack: LocalStack) -> int:
    table = dynamodb_table(stack.settings)  # type: ignore[arg-type]
    response = table.query(
        IndexName=BY_STATUS.name, Select="COUNT", KeyConditionExpression=Key("status").eq("pending")
    )
    return int(response["Count"])


def every_page(operation: Any, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = operation(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def scan(table: Any, condition: Any) -> list[dict[str, Any]]:
    return every_page(table.scan, FilterExpression=condition, ConsistentRead=True)


def query_all(table: Any, index: str, condition: Any) -> list[dict[str, Any]]:
    return every_page(table.query, IndexName=index, KeyConditionExpression=condition)


def assert_table_matches_oracle(stack: LocalStack) -> list[dict[str, Any]]:
    table = dynamodb_table(stack.settings)  # type: ignore[arg-type]
    oracle = emitted(stack)
    articles = scan(table, Attr("entity").eq("article"))

    # Exactly the emitted stories, each once.
    by_url = Counter(canonical_url(a["url"]) for a in articles)
    assert set(by_url) == set(oracle), {
        "missing": sorted(set(oracle) - set(by_url))[:5],
        "unexpected": sorted(set(by_url) - set(oracle))[:5],
    }
    assert max(by_url.values()) == 1
    for article in articles:
        story = oracle[canonical_url(article["url"])]
        assert set(article["sources"]) == story["returned_by"]  # each source's attribution
        assert set(story["tickers"]) <= set(article["tickers"])
        assert article["status"] == "analyzed"
        assert article["sentiment"] in ("positive", "negative", "neutral")
        assert -1 <= float(article["sentiment_score"]) <= 1
        assert 0 <= float(article["confidence"]) <= 1
        assert article["model_version"]

    # Every index agrees with the items.
    keys = {a["dedup_key"] for a in articles}
    analyzed = query_all(table, BY_STATUS.name, Key("status").eq("analyzed"))
    assert {i["dedup_key"] for i in analyzed if i["entity"] == "article"} == keys
    assert query_all(table, BY_STATUS.name, Key("status").eq("pending")) == []
    for label in ("positive", "negative", "neutral"):
        listed = query_all(table, BY_SENTIMENT.name, Key("sentiment").eq(label))
        assert {i["dedup_key"] for i in listed} == {
            a["dedup_key"] for a in articles if a["sentiment"] == label
        }
    tickers = {t for a in articles for t in a["tickers"]}
    for ticker in tickers:
        tagged = [i["dedup_key"] for i in query_all(table, BY_TAG.name, Key("tag").eq(ticker))]
        assert sorted(tagged) == sorted(a["dedup_key"] for a in articles if ticker in a["tickers"])

    # Each article carries its relevance to every ticker it lists, as the scorer finds it.
    relevance = RelevanceScorer()
    for article in articles:
        stored = {t: float(r) for t, r in article["relevance"].items()}
        assert stored == pytest.approx(
            relevance.score(article["tickers"], article["title"], article["description"])
        )
        assert all(0 < r <= 1 for r in stored.values())

    # Buckets hold true sums: our model's daily counts add up to the articles per ticker,
    # and its weights to their relevance.
    for ticker in WATCHLIST:
        buckets = query_all_base(table, f"SENTIMENT#{ticker}#our_model", "D#")
        mentioning = [a for a in articles if ticker in a["tickers"]]
        assert sum(int(b["count"]) for b in buckets) == len(mentioning)
        assert sum(float(b["score_sum"]) for b in buckets) == pytest.approx(
            sum(float(a["sentiment_score"]) for a in mentioning), abs=1e-3
        )
        assert sum(float(b["weight_sum"]) for b in buckets) == pytest.approx(
            sum(float(a["relevance"][ticker]) for a in mentioning), abs=1e-3
        )
        assert sum(float(b["weighted_sum"]) for b in buckets) == pytest.approx(
            sum(float(a["relevance"][ticker]) * float(a["sentiment_score"]) for a in mentioning),
            abs=1e-3,
        )
    return articles


def query_all_base(table: Any, partition: str, prefix: str) -> list[dict[str, Any]]:
    page = table.query(
        KeyConditionExpression=Key("PK").eq(partition) & Key("SK").begins_with(prefix)
    )
    return list(page["Items"])


def run_now(stack: LocalStack) -> dict[str, Any]:
    response = httpx.post(
        f"{api(stack)}/api/v2/ops/ingestion/run", headers=operator(stack), timeout=60
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_cycles_store_exactly_the_emitted_stories_once_and_a_rerun_adds_nothing(stack) -> None:
    pipeline = stack.pipeline
    assert pipeline is not None
    ingestion = pipeline.scheduler.schedules["ingestion"]
    # N cycles on the scheduler, with fresh news arriving between them.
    for cycle, ticker in enumerate(["AAPL", "MSFT", "JPM"]):
        inject(stack, ticker, 5)
        target = ingestion.runs + 2
        deadline = time.monotonic() + 60
        while ingestion.runs < target and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ingestion.runs >= target, f"scheduler did not run cycle {cycle}"
    pipeline.scheduler.stop()
    assert ingestion.failures == 0
    settle(stack)

    articles = assert_table_matches_oracle(stack)
    assert len(articles) >= 15

    again = run_now(stack)
    assert (again["new"], again["published"]) == (0, 0)
    assert again["duplicates"] == again["stories"] > 0
    assert again["errors"] == {}
    settle(stack)
    assert len(assert_table_matches_oracle(stack)) == len(articles)

    counts = httpx.get(f"{api(stack)}/api/v2/ops/pipeline", headers=operator(stack)).json()
    assert counts["status_counts"] == {"pending": 0, "analyzed": len(articles)}
    assert counts["stages"]["dead_lettered"] == 0


def test_an_emulator_stopped_mid_run_loses_and_duplicates_nothing(stack) -> None:
    pipeline = stack.pipeline
    assert pipeline is not None and pipeline.finnhub is not None
    pipeline.scheduler.stop()
    # Fresh news, whatever the scheduler's cycles (the first one runs at start) already took.
    inject(stack, "MSFT", 4)
    first = run_now(stack)
    assert first["new"] > 0

    pipeline.finnhub.stop()
    inject(stack, "AAPL", 6)
    during = run_now(stack)
    assert "finnhub" in during["errors"] and during["fetched"]["finnhub"] == 0
    assert "tiingo" not in during["errors"]

    pipeline.finnhub.start()
    inject(stack, "JPM", 4)
    after = run_now(stack)
    assert after["errors"] == {}
    assert after["new"] > 0
    settle(stack)
    assert_table_matches_oracle(stack)


def test_operator_routes_need_the_operator_token(stack) -> None:
    for method, path in (("POST", "/api/v2/ops/ingestion/run"), ("GET", "/api/v2/ops/pipeline")):
        missing = httpx.request(method, f"{api(stack)}{path}")
        wrong = httpx.request(
            method, f"{api(stack)}{path}", headers={"Authorization": "Bearer not-the-token"}
        )
        assert missing.status_code == 401, missing.text
        assert wrong.status_code in (401, 403), wrong.text
        assert "not-the-token" not in wrong.text
