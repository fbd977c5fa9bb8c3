"""Observability over HTTP: the log tail, the request traces and the table's item counts.

A request made with a correlation ID of the test's own is found in the log tail (one line
per answered request) and as a trace whose spans show where its time went: the session read
made before the resolver, the rate limit, the route handler and its DynamoDB calls. The
table's counts follow what the test writes."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from services.local.stack import LocalStack
from tests.e2e.api_support import error_code, operator_headers, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def test_observability_routes_want_the_operator_token(client: httpx.Client) -> None:
    for path in (
        "/api/v2/ops/logs",
        "/api/v2/ops/traces",
        "/api/v2/ops/traces/x",
        "/api/v2/ops/table",
    ):
        response = client.get(path, headers={"Authorization": "Bearer not-the-operator"})
        assert response.status_code == 401, path
        assert error_code(response) == "UNAUTHORIZED"


def test_a_request_is_found_in_the_logs_and_as_a_trace(
    stack: LocalStack, client: httpx.Client
) -> None:
    # Given a session, When it lists its configurations with a correlation ID of ours,
    operator = operator_headers(stack)
    bearer = sign_in(client)
    correlation = f"obs-{uuid.uuid4().hex[:12]}"
    listed = client.get(
        "/api/v2/configurations", headers={**bearer, "X-Correlation-ID": correlation}
    )
    assert listed.status_code == 200, listed.text

    # Then the log tail has its answer line, filtered by correlation ID and service,
    logs = client.get(
        "/api/v2/ops/logs",
        headers=operator,
        params={"correlation_id": correlation, "service": "dashboard", "level": "INFO"},
    )
    assert logs.status_code == 200, logs.text
    records = logs.json()["records"]
    assert [r["message"] for r in records] == ["request answered"]
    assert records[0]["status"] == 200 and records[0]["path"] == "/api/v2/configurations"
    assert "dashboard" in logs.json()["services"]
    # (a level above INFO leaves it out)
    errors_only = client.get(
        "/api/v2/ops/logs",
        headers=operator,
        params={"correlation_id": correlation, "level": "ERROR"},
    )
    assert errors_only.json()["records"] == []

    # and its trace lists where the time went, the session read included.
    listing = client.get("/api/v2/ops/traces", headers=operator).json()["traces"]
    assert correlation in [t["correlation_id"] for t in listing]
    # The operator's own polling of the ops routes is not kept.
    assert not any(t["path"].startswith("/api/v2/ops/") and t["method"] == "GET" for t in listing)
    trace = client.get(f"/api/v2/ops/traces/{correlation}", headers=operator)
    assert trace.status_code == 200, trace.text
    body = trace.json()
    assert (body["method"], body["path"], body["status"]) == ("GET", "/api/v2/configurations", 200)
    kinds = [s["kind"] for s in body["spans"]]
    assert {"middleware", "handler", "dynamodb"} <= set(kinds)
    session_read = [s for s in body["spans"] if s.get("detail", {}).get("phase")]
    assert session_read and session_read[0]["name"].startswith("DynamoDB ")
    handler = next(s for s in body["spans"] if s["kind"] == "handler")
    limit = next(s for s in body["spans"] if s["name"] == "rate limit")
    assert 0 < handler["duration_ms"] <= body["duration_ms"]
    # The rate limit's own time ends where the handler's begins.
    assert limit["start_ms"] + limit["duration_ms"] <= handler["start_ms"]
    assert body["dynamodb_calls"] == kinds.count("dynamodb") >= 1

    unknown = client.get("/api/v2/ops/traces/not-a-known-id", headers=operator)
    assert unknown.status_code == 404 and error_code(unknown) == "NOT_FOUND"


def test_bad_log_filters_are_400(stack: LocalStack, client: httpx.Client) -> None:
    operator = operator_headers(stack)
    for params in ({"level": "LOUD"}, {"limit": "0"}, {"limit": "many"}):
        response = client.get("/api/v2/ops/logs", headers=operator, params=params)
        assert response.status_code == 400, params
        assert error_code(response) == "BAD_PARAMETER"


def test_table_counts_items_per_entity_and_index(stack: LocalStack, client: httpx.Client) -> None:
    operator = operator_headers(stack)
    before = client.get("/api/v2/ops/table", headers=operator)
    assert before.status_code == 200, before.text
    counted = before.json()
    assert set(counted["indexes"]) == {"by_sentiment", "by_status", "by_tag"}
    assert counted["items"] == sum(counted["entities"].values())
    # A new session and configuration are new items (after the short reuse period).
    bearer = sign_in(client)
    created = client.post(
        "/api/v2/configurations", headers=bearer, json={"name": "Obs", "tickers": ["AAPL"]}
    )
    assert created.status_code == 201, created.text
    users_before = counted["entities"].get("user", 0)
    for _ in range(40):
        after = client.get("/api/v2/ops/table", headers=operator).json()
        if after["age_s"] == 0.0 and after["entities"].get("config", 0) >= 1:
            break
        time.sleep(0.5)
    assert after["entities"]["user"] > users_before
    assert after["entities"]["config"] >= 1
