"""The operator's table and pipeline counts cost a bounded number of reads whatever the
table's size: the table view reads at most its item budget (exact below it, estimated from
a sample above it, flagged), the pipeline counts read at most their page limit per status
(a lower bound beyond it, filled in from the metrics function's figures), and both keep their
result for a few seconds, so polling does not multiply the cost."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from services.composition.api import table_api_dependencies
from services.functions.dashboard import Dashboard, build_dashboard
from services.local.function_url import LocalLambdaContext, build_event
from services.settings import Settings
from services.store import census
from services.store.census import count_status, table_census
from services.store.metrics import DynamoMetricsStore
from services.store.sessions import token_hash

pytestmark = pytest.mark.unit

OPERATOR = "operator-secret"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ARTICLES = 240


class ReadMeter:
    """Items the table's client returned to scans and queries (COUNT queries: items counted)."""

    def __init__(self, client: Any) -> None:
        self.scanned = 0
        self.scans = 0
        self.queries = 0
        client.meta.events.register("after-call.dynamodb.Scan", self._scan)
        client.meta.events.register("after-call.dynamodb.Query", self._query)

    def _scan(self, parsed: dict[str, Any], **_: Any) -> None:
        self.scans += 1
        self.scanned += int(parsed.get("ScannedCount", 0))

    def _query(self, **_: Any) -> None:
        self.queries += 1


@pytest.fixture
def table(moto_table: Any) -> Any:
    with moto_table.batch_writer() as batch:
        for n in range(ARTICLES):
            batch.put_item(
                Item={
                    "PK": f"ARTICLE#{n:04d}",
                    "SK": "ARTICLE",
                    "entity": "article",
                    "status": "analyzed" if n % 4 else "pending",
                    "timestamp": f"2026-11-24T11:{n % 60:02d}:00Z",
                }
            )
        for n in range(10):
            batch.put_item(Item={"PK": f"USER#{n}", "SK": "PROFILE", "entity": "user"})
    return moto_table


def operator_dashboard(table: Any, **settings: Any) -> Dashboard:
    deps = table_api_dependencies(
        Settings(operator_token_sha256=token_hash(OPERATOR), rate_limit_enabled=False, **settings),
        clock=lambda: NOW,
        table=table,
    )
    return build_dashboard(deps)


def get(dashboard: Dashboard, path: str, method: str = "GET") -> Any:
    event = build_event(
        method=method,
        raw_path=path,
        headers={"authorization": f"Bearer {OPERATOR}"},
        body=b"",
        source_ip="10.0.0.1",
        domain="t",
    )
    answer = dashboard(event, LocalLambdaContext(function_name="t", aws_request_id="r"))
    assert answer["statusCode"] == 200, answer["body"]
    return json.loads(answer["body"])


def test_a_table_within_the_budget_is_counted_exactly(table: Any) -> None:
    counted = table_census(table, max_items=10_000)
    assert counted["items"] == ARTICLES + 10
    assert counted["entities"] == {"article": ARTICLES, "user": 10}
    assert counted["indexes"]["by_status"]["items"] == ARTICLES
    assert counted["indexes"]["by_status"]["top_values"] == {"analyzed": 180, "pending": 60}
    assert (counted["truncated"], counted["estimated"]) == (False, False)
    assert counted["described"]["items"] == ARTICLES + 10


def test_a_table_over_the_budget_reads_no_more_than_the_budget_and_says_so(table: Any) -> None:
    meter = ReadMeter(table.meta.client)
    counted = table_census(table, max_items=100, segments=8)
    assert meter.scanned <= 100 and counted["scanned_items"] <= 100
    assert counted["truncated"] is True and counted["estimated"] is True
    # Estimated from whole segments: the right order of magnitude, not a lower bound only
    assert ARTICLES / 3 < counted["items"] < ARTICLES * 3
    assert 0 < counted["sampled_fraction"] < 1


def test_the_table_route_reads_within_its_budget_once_per_period(table: Any) -> None:
    dashboard = operator_dashboard(table, ops_table_scan_max_items=50)
    meter = ReadMeter(table.meta.client)
    first = get(dashboard, "/api/v2/ops/table")
    for _ in range(20):
        again = get(dashboard, "/api/v2/ops/table")
    assert first["truncated"] is True and meter.scanned <= 50
    # The fields the workbench reads are all there
    assert isinstance(first["items"], int) and first["entities"] and first["indexes"]
    assert again["age_s"] >= 0 and meter.scanned <= 50  # the polls were answered from one count


def test_pipeline_counts_stop_at_their_page_limit_and_take_the_metrics_figures(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given pages of 25 items and at most 2 pages per status
    monkeypatch.setattr(census, "COUNT_PAGE_ITEMS", 25)
    bounded = count_status(table, "analyzed", now=NOW, max_pages=2)
    assert (bounded.count, bounded.complete) == (50, False)
    assert count_status(table, "pending", now=NOW, max_pages=3) == census.BoundedCount(60, True)
    # And the metrics function's last figures
    DynamoMetricsStore(table).put_snapshot({"pipeline": {"pending": 60, "analyzed": 180}}, NOW)
    dashboard = operator_dashboard(table, ops_count_max_pages=2)
    meter = ReadMeter(table.meta.client)
    # When the operator polls the pipeline view
    body = get(dashboard, "/api/v2/ops/pipeline")
    queries = meter.queries
    for _ in range(10):
        assert get(dashboard, "/api/v2/ops/pipeline")["status_counts"] == body["status_counts"]
    # Then each status read at most 2 pages (+ the runs and the snapshot), once for every poll
    assert queries <= 2 * 2 + 2 and meter.queries == queries
    assert body["truncated"] == ["pending", "analyzed"] and body["estimated"] is True
    assert body["status_counts"] == {"pending": 60, "analyzed": 180}
    assert body["stages"]["ingested"] == 240


def test_pipeline_counts_are_exact_for_a_usual_backlog(table: Any) -> None:
    body = get(operator_dashboard(table), "/api/v2/ops/pipeline")
    assert body["status_counts"] == {"pending": 60, "analyzed": 180}
    assert body["truncated"] == [] and body["estimated"] is False
