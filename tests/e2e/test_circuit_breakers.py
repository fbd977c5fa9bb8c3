"""Circuit breakers and quotas end to end on the embedded stack: the Tiingo emulator fails,
ingestion cycles run, the tiingo circuit opens after 5 failures (seen through the operator
route, the health check and the price route of another function on the same table) while
Finnhub news keeps arriving; once the fault is over and the open timeout has passed, one
trial call closes it. Then SendGrid's daily quota runs out under sign-in e-mails."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.clock import parse_iso
from services.local.stack import LocalStack
from services.settings import Settings
from tests.e2e.api_support import error_code, news_stack, operator_headers, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

OPEN_TIMEOUT_S = 2.0
SERVICES = {"tiingo", "finnhub", "sendgrid"}
# Sign-in e-mails a day in this stack: small, so the test can spend them.
EMAILS_PER_DAY = 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[LocalStack]:
    settings = Settings(
        default_watchlist="AAPL,MSFT",
        circuit_open_timeout_s=OPEN_TIMEOUT_S,
        sendgrid_quota_limit=EMAILS_PER_DAY,
        # No share kept for sign-in e-mails here, so they alone can spend the whole day (the
        # share that keeps them to a tenth is tested in test_abuse_quotas.py).
        sendgrid_sign_in_share=0.0,
    )
    with news_stack(root, tmp_path_factory.mktemp("state"), settings) as running:
        pipeline = running.pipeline
        assert pipeline is not None and pipeline.tiingo is not None
        # Stories published now, some of them carried by Finnhub.
        for ticker in ("AAPL", "MSFT"):
            injected = httpx.post(
                f"{pipeline.tiingo.root_url}/_emulator/news", json={"ticker": ticker, "count": 6}
            )
            assert injected.status_code == 201, injected.text
        yield running


def ops(client: httpx.Client, stack: LocalStack, what: str) -> dict[str, Any]:
    response = client.get(f"/api/v2/ops/{what}", headers=operator_headers(stack))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def cycle(stack: LocalStack) -> dict[str, Any]:
    assert stack.pipeline is not None
    return stack.pipeline.run_ingestion_now()


def tiingo_faults(stack: LocalStack) -> str:
    assert stack.pipeline is not None and stack.pipeline.tiingo is not None
    return f"{stack.pipeline.tiingo.root_url}/_emulator/faults"


def test_ops_routes_want_the_operator_token(client) -> None:
    for path in ("/api/v2/ops/circuits", "/api/v2/ops/quotas"):
        missing = client.get(path)
        wrong = client.get(path, headers={"Authorization": "Bearer not-the-operator"})
        assert missing.status_code == 401 and error_code(missing) == "UNAUTHORIZED"
        assert wrong.status_code == 401 and "not-the-operator" not in wrong.text


def test_tiingo_failing_opens_its_circuit_and_one_trial_closes_it(stack, client) -> None:
    # Given every circuit closed
    start = ops(client, stack, "circuits")
    assert set(start["circuits"]) == SERVICES
    assert all(
        (c["state"], c["failures"], c["threshold"]) == ("closed", 0, 5)
        for c in start["circuits"].values()
    )
    assert start["transitions"] == []

    # When Tiingo answers 500 to every request, for five ingestion cycles
    fault = httpx.post(tiingo_faults(stack), json={"mode": "http_500", "duration_s": 60})
    assert fault.status_code == 200, fault.text
    for attempt in range(1, 6):
        summary = cycle(stack)
        # Then each cycle records Tiingo's error and still stores Finnhub's news
        assert "ProviderUnavailableError" in summary["errors"]["tiingo"], summary
        assert "finnhub" not in summary["errors"] and summary["fetched"]["finnhub"] > 0
        if attempt == 1:
            assert summary["new"] > 0
        tiingo = ops(client, stack, "circuits")["circuits"]["tiingo"]
        assert tiingo["failures"] == attempt
        assert tiingo["state"] == ("open" if attempt == 5 else "closed")

    # And the fifth failure opened it: for the open timeout, nothing reaches Tiingo
    circuits = ops(client, stack, "circuits")
    tiingo = circuits["circuits"]["tiingo"]
    opened_at, retry_at = parse_iso(tiingo["opened_at"]), parse_iso(tiingo["retry_at"])
    assert retry_at - opened_at == timedelta(seconds=OPEN_TIMEOUT_S)
    assert circuits["circuits"]["finnhub"]["state"] == "closed"
    [opened] = circuits["transitions"]
    assert (opened["service"], opened["from"], opened["to"], opened["failures"]) == (
        "tiingo",
        "closed",
        "open",
        5,
    )
    assert "5 failures" in opened["reason"]

    refused = cycle(stack)
    assert refused["errors"]["tiingo"].startswith("CircuitOpenError"), refused
    assert refused["fetched"]["finnhub"] > 0 and "finnhub" not in refused["errors"]

    # The dashboard function shares the state: its price route says when to come back
    # (with a session: only a caller with one may make the API ask Tiingo)
    prices = client.get("/api/v2/tickers/MSFT/ohlc?range=3M&resolution=D", headers=sign_in(client))
    assert prices.status_code == 503, prices.text
    assert error_code(prices) == "PROVIDER_UNAVAILABLE"
    assert 1 <= int(prices.headers["Retry-After"]) <= OPEN_TIMEOUT_S + 1

    health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert health["checks"]["circuits"]["status"] == "degraded"
    assert health["checks"]["circuits"]["open"] == ["tiingo"]
    assert health["checks"]["dynamodb"]["status"] == "healthy"

    # When the fault ends and the open timeout passes
    assert httpx.delete(tiingo_faults(stack)).status_code == 200
    time.sleep(max(0.0, (retry_at - datetime.now(UTC)).total_seconds()) + 0.2)
    due = ops(client, stack, "circuits")["circuits"]["tiingo"]
    assert due["state"] == "half_open" and not due["trial_in_progress"]

    # Then the next cycle's call is the trial, and it closes the circuit
    recovered = cycle(stack)
    assert "tiingo" not in recovered["errors"] and recovered["fetched"]["tiingo"] > 0, recovered
    after = ops(client, stack, "circuits")
    assert (after["circuits"]["tiingo"]["state"], after["circuits"]["tiingo"]["failures"]) == (
        "closed",
        0,
    )
    assert after["circuits"]["tiingo"]["retry_at"] is None
    assert [(t["from"], t["to"]) for t in after["transitions"]] == [
        ("half_open", "closed"),
        ("open", "half_open"),
        ("closed", "open"),
    ]
    stamps = [parse_iso(t["at"]) for t in after["transitions"]]
    assert stamps == sorted(stamps, reverse=True)
    assert client.get("/health").json()["checks"]["circuits"]["status"] == "healthy"

    # Every Tiingo call made was counted, in each of its plan's quotas: five failures and the
    # trial; the refused cycle and the refused price fetch made none. The hourly quota is the
    # tightest, so its figures head the provider's entry.
    tiingo_quotas = ops(client, stack, "quotas")["quotas"]["tiingo"]
    limits = {q["name"]: q for q in tiingo_quotas["limits"]}
    assert set(limits) == {"requests_per_hour", "requests_per_day"}  # the paid plan's
    assert limits["requests_per_day"]["used"] == 6
    assert limits["requests_per_day"]["limit"] == stack.settings.tiingo_paid_daily_limit  # type: ignore[union-attr]
    assert limits["requests_per_day"]["period"] == datetime.now(UTC).strftime("%Y-%m-%d")
    assert (tiingo_quotas["name"], tiingo_quotas["level"]) == ("requests_per_hour", "ok")
    assert tiingo_quotas["limit"] == stack.settings.tiingo_paid_hourly_limit  # type: ignore[union-attr]


def test_sign_in_emails_stop_when_the_days_sendgrid_quota_is_used(stack, client) -> None:
    for n in range(EMAILS_PER_DAY):
        sent = client.post("/api/v2/auth/magic-link", json={"email": f"reader{n}@example.com"})
        assert sent.status_code == 202, sent.text

    refused = client.post("/api/v2/auth/magic-link", json={"email": "late@example.com"})

    assert refused.status_code == 503, refused.text
    assert error_code(refused) == "QUOTA_EXHAUSTED"
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    assert abs(int(refused.headers["Retry-After"]) - (midnight - now).total_seconds()) <= 5
    sendgrid = ops(client, stack, "quotas")["quotas"]["sendgrid"]
    # The own budget (SENDGRID_QUOTA_LIMIT) on top of the plan's daily limit is the tightest.
    assert sendgrid["name"] == "budget_per_day"
    assert sendgrid["used"] == EMAILS_PER_DAY and sendgrid["limit"] == EMAILS_PER_DAY
    assert sendgrid["level"] == "critical"
    assert parse_iso(sendgrid["resets_at"]) == midnight
    assert sendgrid["period"] == now.strftime("%Y-%m-%d")
    health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert health["checks"]["quotas"]["critical"] == ["sendgrid"]
    assert health["checks"]["quotas"]["critical_limits"] == ["sendgrid:budget_per_day"]
    assert ops(client, stack, "circuits")["circuits"]["sendgrid"]["state"] == "closed"
