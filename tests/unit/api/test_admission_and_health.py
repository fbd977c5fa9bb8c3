"""Every request is counted by the rate limit before anything is read for it, whatever its
bearer, body or path; `/health` answers a flood from one kept probe, and tells an anonymous
caller only which kind of error a check met (the detail goes to the log and the operator)."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from services.composition.api import table_api_dependencies
from services.functions.dashboard import Dashboard, build_dashboard
from services.local.function_url import LocalLambdaContext, build_event
from services.settings import Settings
from services.store.memory import InMemorySessionRepository
from services.store.models import Session
from services.store.sessions import token_hash
from tests.unit.support.memory_api import memory_api_dependencies

pytestmark = pytest.mark.unit

OPERATOR = "operator-secret"
ORIGIN = "http://127.0.0.1:5006"
CONTEXT = LocalLambdaContext(function_name="t", aws_request_id="r")


class CountingSessions(InMemorySessionRepository):
    """No session exists; every lookup is counted (each is a table read in the service)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def find_by_token_hash(self, token_hash: str, now: datetime) -> Session | None:
        self.reads += 1
        return super().find_by_token_hash(token_hash, now)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limited_dashboard(**settings: Any) -> Dashboard:
    limits = {"rate_limit_per_identity": 3, "rate_limit_per_ip": 5, "rate_limit_window_s": 10}
    chosen = Settings(operator_token_sha256=token_hash(OPERATOR), **{**limits, **settings})
    # The API over the memory store, its rate limit on the test's clock.
    deps = memory_api_dependencies(chosen, seconds=Clock())
    deps.store = replace(deps.store, sessions=CountingSessions())
    return build_dashboard(deps)


def call(
    dashboard: Dashboard,
    path: str,
    *,
    method: str = "GET",
    token: str | None = None,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    ip: str = "10.0.0.1",
) -> dict[str, Any]:
    sent = {"content-type": "application/json", **(headers or {})}
    if token:
        sent["authorization"] = f"Bearer {token}"
    event = build_event(
        method=method, raw_path=path, headers=sent, body=body, source_ip=ip, domain="t"
    )
    return dashboard(event, CONTEXT)


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_random_bearers_with_invalid_bodies_are_counted_before_any_session_read() -> None:
    # Given the function with 5 requests per address and window
    dashboard = limited_dashboard()
    sessions = dashboard.deps.store.sessions
    assert isinstance(sessions, CountingSessions)
    # When one address sends 40 made-up bearers, each with a body the schema refuses
    answers = [
        call(
            dashboard,
            "/api/v2/configurations",
            method="POST",
            token=uuid.uuid4().hex,
            body=b'{"name": 5}',
        )
        for _ in range(40)
    ]
    # Then the first 5 are answered (401/422) and the rest refused, and only the 5 admitted
    # requests read a session
    codes = [a["statusCode"] for a in answers]
    assert codes[5:] == [429] * 35 and 429 not in codes[:5], codes
    assert sessions.reads == 5


def test_a_flood_of_unknown_paths_is_counted_and_refused() -> None:
    dashboard = limited_dashboard()
    codes = [call(dashboard, f"/api/v2/{uuid.uuid4().hex}")["statusCode"] for _ in range(8)]
    assert codes == [404] * 5 + [429] * 3


def test_the_refusal_has_the_envelope_the_correlation_id_and_cors() -> None:
    dashboard = limited_dashboard()
    for _ in range(5):
        call(dashboard, "/api/v2/tickers/search?q=AA")
    refused = call(
        dashboard,
        "/api/v2/tickers/search?q=AA",
        headers={"origin": ORIGIN, "x-correlation-id": "trace-429"},
    )
    headers = lower(refused["headers"])
    error = json.loads(refused["body"])["error"]
    assert refused["statusCode"] == 429 and error["code"] == "RATE_LIMITED"
    assert headers["x-correlation-id"] == "trace-429"
    assert headers["retry-after"] == str(error["details"]["retry_after_s"])
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "Retry-After" in headers["access-control-expose-headers"]
    assert headers["content-type"] == "application/json"
    # Without a correlation ID from the caller, one is made up
    assert len(lower(call(dashboard, "/api/v2/tickers/search")["headers"])["x-correlation-id"])


def test_preflight_the_document_and_the_operator_stay_exempt() -> None:
    dashboard = limited_dashboard()
    preflight = {"origin": ORIGIN, "access-control-request-method": "POST"}
    for _ in range(10):
        assert call(dashboard, "/api/v2/openapi.json")["statusCode"] == 200
        assert (
            call(dashboard, "/api/v2/configurations", method="OPTIONS", headers=preflight)[
                "statusCode"
            ]
            == 204
        )
        assert call(dashboard, "/api/v2/ops/logs", token=OPERATOR)["statusCode"] == 200
    limiter = dashboard.deps.rate_limiter
    assert limiter is not None and limiter.stats.checks == 0


# --- /health ----------------------------------------------------------------------------------


@pytest.fixture
def table(moto_table: Any) -> Any:
    return moto_table


def health_dashboard(table: Any, **settings: Any) -> tuple[Dashboard, list[str]]:
    """The function over `table`, and the list of the health probe's reads (each GetItem of
    the probe's key is one)."""
    deps = table_api_dependencies(
        Settings(operator_token_sha256=token_hash(OPERATOR), rate_limit_enabled=False, **settings),
        table=table,
    )
    probes: list[str] = []

    def count_probe(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key", {}).get("PK") == "HEALTH":
            probes.append("read")

    table.meta.client.meta.events.register("before-parameter-build.dynamodb.GetItem", count_probe)
    return build_dashboard(deps), probes


def test_a_flood_of_health_costs_one_table_read_per_period(table: Any) -> None:
    dashboard, probes = health_dashboard(table, health_cache_ttl_s=60)
    answers = [call(dashboard, "/health") for _ in range(50)]
    assert {a["statusCode"] for a in answers} == {200}
    assert json.loads(answers[0]["body"])["checks"]["dynamodb"]["status"] == "healthy"
    assert len(probes) == 1
    # With the period set to 0 every call probes (the setting is what bounds it)
    unkept, probes_unkept = health_dashboard(table, health_cache_ttl_s=0)
    for _ in range(3):
        call(unkept, "/health")
    assert len(probes_unkept) == 3


SECRET_DETAIL = "connect to internal-db-7.example:8000 failed for account 123456789012"


def test_health_tells_anonymous_callers_the_kind_of_error_only(
    table: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a table whose reads fail with a detailed message
    def unreachable(**_: Any) -> None:
        raise ConnectionError(SECRET_DETAIL)

    monkeypatch.setattr(table, "get_item", unreachable)
    dashboard, _ = health_dashboard(table)
    # When an anonymous caller asks
    with caplog.at_level(logging.WARNING, logger="services.api.health"):
        answer = call(dashboard, "/health", headers={"x-correlation-id": "probe-1"})
    # Then the answer says which check failed and how, in a stable word, and no more
    body = json.loads(answer["body"])
    assert answer["statusCode"] == 503 and body["status"] == "unhealthy"
    assert body["checks"]["dynamodb"]["error"] == "dynamodb: ConnectionError"
    assert "internal-db-7" not in answer["body"] and "123456789012" not in answer["body"]
    # and the detail is logged with the request's correlation ID
    logged = [r for r in caplog.records if r.getMessage() == "health check failed"]
    assert len(logged) == 1
    assert logged[0].correlation_id == "probe-1"  # type: ignore[attr-defined]
    assert SECRET_DETAIL in str(logged[0].failures)  # type: ignore[attr-defined]
    # And the operator sees the detail in the answer (kept: no new probe, no new log line)
    operator = json.loads(call(dashboard, "/health", token=OPERATOR)["body"])
    assert SECRET_DETAIL in operator["checks"]["dynamodb"]["diagnostic"]
    assert len([r for r in caplog.records if r.getMessage() == "health check failed"]) == 1
