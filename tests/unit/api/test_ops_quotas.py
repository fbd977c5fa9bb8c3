"""`GET /api/v2/ops/quotas` and the quotas of `GET /health` in the real app over a moto table:
every quota of every provider (the plan's limits and the own budget), each provider's
tightest one first and its figures at the top level, as before the plans' limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver

from services.api.app import build_app
from services.api.dependencies import ApiDependencies
from services.composition.api import table_api_dependencies
from services.observability import get_logger
from services.settings import Settings
from services.store.sessions import token_hash
from tests.unit.resolve import resolve_get

pytestmark = pytest.mark.unit

OPERATOR = "operator-secret"
NOW = datetime(2026, 11, 24, 12, 15, tzinfo=UTC)


@pytest.fixture
def deps(moto_table: Any) -> ApiDependencies:
    settings = Settings(
        operator_token_sha256=token_hash(OPERATOR),
        rate_limit_enabled=False,
        tiingo_plan="free",
        finnhub_plan="free",
        sendgrid_plan="free",
        sendgrid_quota_limit=10,
    )
    return table_api_dependencies(settings, clock=lambda: NOW, table=moto_table)


def get(app: LambdaFunctionUrlResolver, path: str) -> tuple[int, Any]:
    return resolve_get(app, path, OPERATOR)


def test_the_route_lists_every_quota_of_every_provider(deps: ApiDependencies) -> None:
    guard = deps.guard
    guard.call("tiingo", lambda: None, symbols=["AAPL", "MSFT"])
    guard.count("tiingo", 2)  # two more pages
    guard.call("finnhub", lambda: None, units=8)
    for _ in range(8):
        guard.call("sendgrid", lambda: None, priority=True)
    app = build_app(deps, get_logger("ops-quotas-test", "WARNING"))

    status, body = get(app, "/api/v2/ops/quotas")

    assert status == 200
    tiingo = body["quotas"]["tiingo"]
    assert [q["name"] for q in tiingo["limits"]] == [
        "requests_per_hour",
        "symbols_per_month",
        "requests_per_day",
    ]
    assert tiingo["limits"][0] == {
        "provider": "tiingo",
        "name": "requests_per_hour",
        "counts": "requests",
        "per": "hour",
        "used": 3,
        "limit": 50,
        "period": "2026-11-24T12",
        "resets_at": "2026-11-24T13:00:00.000000Z",
        "level": "ok",
    }
    assert {k: tiingo[k] for k in ("name", "used", "limit", "period", "level")} == {
        "name": "requests_per_hour",
        "used": 3,
        "limit": 50,
        "period": "2026-11-24T12",
        "level": "ok",
    }
    assert [(q["used"], q["limit"], q["period"]) for q in tiingo["limits"][1:]] == [
        (2, 500, "2026-11"),
        (3, 1_000, "2026-11-24"),
    ]
    finnhub = {q["name"]: (q["used"], q["limit"]) for q in body["quotas"]["finnhub"]["limits"]}
    assert finnhub == {"requests_per_second": (8, 30), "requests_per_minute": (8, 60)}
    sendgrid = body["quotas"]["sendgrid"]
    assert (sendgrid["name"], sendgrid["used"], sendgrid["limit"], sendgrid["level"]) == (
        "budget_per_day",
        8,
        10,
        "critical",
    )
    assert [q["name"] for q in sendgrid["limits"]] == ["budget_per_day", "requests_per_day"]

    health = get(app, "/health")[1]["checks"]["quotas"]
    assert health["status"] == "degraded" and health["critical"] == ["sendgrid"]
    assert health["critical_limits"] == ["sendgrid:budget_per_day"]
    assert health["levels"] == {"tiingo": "ok", "finnhub": "ok", "sendgrid": "critical"}
    assert health["limits"]["tiingo"] == {
        "requests_per_hour": "ok",
        "symbols_per_month": "ok",
        "requests_per_day": "ok",
    }


def test_the_answer_is_described_in_the_openapi_document(deps: ApiDependencies) -> None:
    app = build_app(deps, get_logger("ops-quotas-test", "WARNING"))

    document = get(app, "/api/v2/openapi.json")[1]

    schemas = document["components"]["schemas"]
    assert {"name", "used", "limit", "period", "resets_at", "level", "limits"} <= set(
        schemas["ProviderQuotaOut"]["properties"]
    )
    assert {"provider", "name", "counts", "per"} <= set(schemas["QuotaLimitOut"]["properties"])
