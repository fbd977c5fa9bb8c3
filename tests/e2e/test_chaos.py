"""Fault injection over HTTP: each scenario switched on and off through `/api/v2/ops/chaos`
changes the emulators' own fault switches, and the real adapters meet the failure (an
ingestion cycle reports the failing source, prices answer 503 or from a cached copy, a
sign-in e-mail is refused; with `free_plan_keys` the premium sources are not_entitled until
it is switched off); durations end scenarios by themselves; the routes are the operator's,
and absent outside local and dev.

The circuit breakers and quotas are given room here (their own tests show them opening), so
that every call in this module reaches the emulator and meets its fault."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.local.processes import free_port
from services.local.stack import LocalStack
from services.settings import Settings
from services.store.table import dynamodb_table
from tests.e2e.api_support import error_code, function_instance, news_stack, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SCENARIOS = {"tiingo_500", "finnhub_500", "slow_upstream", "sendgrid_429", "free_plan_keys"}
HTTP_TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[LocalStack]:
    settings = Settings(
        default_watchlist="AAPL,MSFT",
        http_timeout_s=HTTP_TIMEOUT_S,
        circuit_failure_threshold=10_000,
        tiingo_quota_limit=1_000_000,
        finnhub_quota_limit=1_000_000,
        sendgrid_quota_limit=1_000_000,
        # Every instance reads the refused endpoints on each check: a refusal recorded (or
        # forgotten) is seen by the next call rather than within the minute.
        entitlements_refresh_s=0,
    )
    with news_stack(root, tmp_path_factory.mktemp("state"), settings) as running:
        yield running


def switch(
    client: httpx.Client,
    operator: dict[str, str],
    scenario: str,
    enabled: bool,
    **extra: Any,
) -> dict[str, Any]:
    response = client.post(
        "/api/v2/ops/chaos",
        headers=operator,
        json={"scenario": scenario, "enabled": enabled, **extra},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["scenario"] == scenario and body["enabled"] is enabled
    return body


def scenarios(client: httpx.Client, operator: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v2/ops/chaos", headers=operator)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["scenarios"]
    return body


def emulator_fault(stack: LocalStack, provider: str) -> str | None:
    """The emulator's own word on its fault, asked directly, not through the API."""
    pipeline = stack.pipeline
    assert pipeline is not None and pipeline.tiingo and pipeline.finnhub and stack.sendgrid
    root = {
        "tiingo": pipeline.tiingo.root_url,
        "finnhub": pipeline.finnhub.root_url,
        "sendgrid": stack.sendgrid.root_url,
    }[provider]
    mode: str | None = httpx.get(f"{root}/_emulator/faults").json()["mode"]
    return mode


def emulator_plan(stack: LocalStack, provider: str) -> str:
    """The plan the emulator plays, asked directly."""
    pipeline = stack.pipeline
    assert pipeline is not None and pipeline.tiingo and pipeline.finnhub
    root = {"tiingo": pipeline.tiingo.root_url, "finnhub": pipeline.finnhub.root_url}[provider]
    plan: str = httpx.get(f"{root}/_emulator/plan").json()["plan"]
    return plan


def ingest(client: httpx.Client, operator: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/v2/ops/ingestion/run", headers=operator, timeout=120)
    assert response.status_code == 200, response.text
    summary: dict[str, Any] = response.json()
    return summary


# --- who may ----------------------------------------------------------------------------------


def test_chaos_needs_the_operator_token(client: httpx.Client) -> None:
    user = sign_in(client)
    body = {"scenario": "tiingo_500", "enabled": True}
    for headers in ({}, user):
        listed = client.get("/api/v2/ops/chaos", headers=headers)
        switched = client.post("/api/v2/ops/chaos", headers=headers, json=body)
        assert listed.status_code == switched.status_code == 401
        assert error_code(listed) == error_code(switched) == "UNAUTHORIZED"


def test_outside_local_and_dev_the_routes_do_not_exist(
    stack: LocalStack, operator: dict[str, str]
) -> None:
    assert stack.settings is not None
    table = dynamodb_table(stack.settings)
    for environment in ("preprod", "prod"):
        settings = stack.settings.model_copy(update={"environment": environment})
        with function_instance(settings, table) as instance:
            listed = instance.get("/api/v2/ops/chaos", headers=operator)
            switched = instance.post(
                "/api/v2/ops/chaos", headers=operator, json={"scenario": "x", "enabled": 1}
            )
            assert listed.status_code == switched.status_code == 404
            assert error_code(listed) == error_code(switched) == "NOT_FOUND"
            document = instance.get("/api/v2/openapi.json").json()
            assert "/api/v2/ops/chaos" not in document["paths"]


def test_the_scenarios_are_listed_with_their_state(
    client: httpx.Client, operator: dict[str, str]
) -> None:
    listed = scenarios(client, operator)
    assert set(listed) == SCENARIOS
    for name, state in listed.items():
        assert state["available"] and not state["enabled"], (name, state)
        assert state["remaining_s"] == 0 and state["description"]
    assert set(listed["slow_upstream"]["targets"]) == {"tiingo", "finnhub"}
    assert "/api/v2/ops/chaos" in client.get("/api/v2/openapi.json").json()["paths"]


def test_a_scenario_outside_the_list_or_a_bad_duration_fails_the_schema(
    client: httpx.Client, operator: dict[str, str]
) -> None:
    for body in (
        {"scenario": "dns_outage", "enabled": True},
        {"scenario": "tiingo_500", "enabled": True, "duration_s": 0},
        {"scenario": "tiingo_500", "enabled": True, "duration_s": 7200},
    ):
        refused = client.post("/api/v2/ops/chaos", headers=operator, json=body)
        assert refused.status_code == 422 and error_code(refused) == "INVALID_BODY", body


# --- each scenario, on and off ------------------------------------------------------------------


def test_tiingo_500_fails_tiingo_news_and_uncached_prices(
    stack: LocalStack, client: httpx.Client, operator: dict[str, str]
) -> None:
    # Given one price series already cached (a fetch needs a session; cached prices do not)
    session = sign_in(client)
    assert client.get("/api/v2/tickers/AAPL/ohlc?range=1M", headers=session).status_code == 200
    # When Tiingo fails
    state = switch(client, operator, "tiingo_500", True, duration_s=120)
    assert 0 < state["remaining_s"] <= 120 and state["targets"]["tiingo"]["mode"] == "http_500"
    assert emulator_fault(stack, "tiingo") == "http_500"
    # Then a cycle reports Tiingo's failure and still takes Finnhub's news
    summary = ingest(client, operator)
    assert "tiingo" in summary["errors"] and "500" in summary["errors"]["tiingo"], summary
    assert "finnhub" not in summary["errors"] and summary["fetched"]["finnhub"] > 0, summary
    # And prices answer from the cache where there is a copy, 503 where there is none
    cached = client.get("/api/v2/tickers/AAPL/ohlc?range=1M")
    assert cached.status_code == 200 and cached.headers["X-Cache"] == "hit"
    missing = client.get("/api/v2/tickers/MSFT/ohlc?range=3M", headers=session)
    assert missing.status_code == 503 and error_code(missing) == "PROVIDER_UNAVAILABLE"
    assert int(missing.headers["Retry-After"]) >= 1
    # When it is switched off, the emulator answers again and so do the adapters
    switch(client, operator, "tiingo_500", False)
    assert emulator_fault(stack, "tiingo") is None
    assert "tiingo" not in ingest(client, operator)["errors"]
    assert client.get("/api/v2/tickers/MSFT/ohlc?range=3M", headers=session).status_code == 200


def test_finnhub_500_leaves_tiingo_alone(
    stack: LocalStack, client: httpx.Client, operator: dict[str, str]
) -> None:
    switch(client, operator, "finnhub_500", True)
    assert emulator_fault(stack, "finnhub") == "http_500"
    summary = ingest(client, operator)
    assert "finnhub" in summary["errors"] and "500" in summary["errors"]["finnhub"], summary
    assert "tiingo" not in summary["errors"], summary
    switch(client, operator, "finnhub_500", False)
    assert emulator_fault(stack, "finnhub") is None
    assert ingest(client, operator)["errors"] == {}


def test_slow_upstream_makes_both_news_sources_time_out_and_fail_fast(
    stack: LocalStack, client: httpx.Client, operator: dict[str, str]
) -> None:
    state = switch(client, operator, "slow_upstream", True)
    assert emulator_fault(stack, "tiingo") == emulator_fault(stack, "finnhub") == "slow"
    assert set(state["targets"]) == {"tiingo", "finnhub"}
    summary = ingest(client, operator)
    for source in ("tiingo", "finnhub"):
        assert "Timeout" in summary["errors"].get(source, ""), summary
    # A price the cache lacks: the adapter gives up at its timeout, not at the emulator's delay
    session = sign_in(client)
    started = time.monotonic()
    slow = client.get("/api/v2/tickers/NVDA/ohlc?range=6M", headers=session)
    waited = time.monotonic() - started
    assert slow.status_code == 503 and error_code(slow) == "PROVIDER_UNAVAILABLE"
    assert HTTP_TIMEOUT_S <= waited < HTTP_TIMEOUT_S + 1.0, waited
    switch(client, operator, "slow_upstream", False)
    assert emulator_fault(stack, "tiingo") is None and emulator_fault(stack, "finnhub") is None


def test_sendgrid_429_refuses_sign_in_e_mails_until_switched_off(
    stack: LocalStack, client: httpx.Client, operator: dict[str, str]
) -> None:
    assert stack.sendgrid is not None
    switch(client, operator, "sendgrid_429", True)
    assert emulator_fault(stack, "sendgrid") == "http_429"
    refused = client.post("/api/v2/auth/magic-link", json={"email": "chaos@example.com"})
    assert refused.status_code == 503 and error_code(refused) == "EMAIL_UNAVAILABLE"
    assert int(refused.headers["Retry-After"]) >= 1
    outbox = httpx.get(f"{stack.sendgrid.root_url}/_emulator/outbox").json()
    assert "chaos@example.com" not in str(outbox)
    switch(client, operator, "sendgrid_429", False)
    assert emulator_fault(stack, "sendgrid") is None
    sent = client.post("/api/v2/auth/magic-link", json={"email": "chaos@example.com"})
    assert sent.status_code == 202, sent.text


def test_free_plan_keys_drop_the_premium_sources_until_switched_off(
    stack: LocalStack, client: httpx.Client, operator: dict[str, str]
) -> None:
    pipeline = stack.pipeline
    assert pipeline is not None and pipeline.tiingo and pipeline.finnhub
    # The earlier tests' requests count in this hour of the free plan's too (a plan's counts
    # outlive a switch, as a provider's do): start afresh, so the 403 is what Tiingo answers.
    for emulator in (pipeline.tiingo, pipeline.finnhub):
        httpx.delete(f"{emulator.root_url}/_emulator/usage")
    headers = sign_in(client)
    created = client.post(
        "/api/v2/configurations", json={"name": "plans", "tickers": ["AAPL"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    path = f"/api/v2/configurations/{created.json()['config_id']}/sentiment"
    try:
        # When the keys turn out to be free-plan keys
        state = switch(client, operator, "free_plan_keys", True, duration_s=300)
        assert 0 < state["remaining_s"] <= 300
        assert emulator_plan(stack, "tiingo") == emulator_plan(stack, "finnhub") == "free"
        summary = ingest(client, operator)
        # Then the cycle goes on without the premium sources, and says why
        assert set(summary["not_entitled"]) == {"tiingo", "finnhub_sentiment"}, summary
        assert not {"tiingo", "finnhub", "finnhub_sentiment"} & set(summary["errors"]), summary
        assert summary["fetched"]["finnhub"] > 0, summary
        body = client.get(path, headers=headers).json()
        assert body["source_status"] == {"tiingo": "not_entitled", "finnhub": "not_entitled"}
        assert "News API" in body["source_notes"]["tiingo"], body
        assert "access to this resource" in body["source_notes"]["finnhub"], body
        plans = client.get("/health").json()["checks"]["plans"]
        assert plans["status"] == "degraded", plans
        assert {(r["provider"], r["endpoint"]) for r in plans["not_entitled"]} >= {
            ("tiingo", "news"),
            ("finnhub", "news_sentiment"),
        }
        assert scenarios(client, operator)["free_plan_keys"]["targets"]["tiingo"]["injected"] > 0
    finally:
        switch(client, operator, "free_plan_keys", False)
    # When it is switched off, the paid plan is back and the refusals are forgotten
    assert emulator_plan(stack, "tiingo") == emulator_plan(stack, "finnhub") == "paid"
    summary = ingest(client, operator)
    assert summary["not_entitled"] == {} and summary["errors"] == {}, summary
    body = client.get(path, headers=headers).json()
    assert "not_entitled" not in body["source_status"].values() and not body["source_notes"]
    assert client.get("/health").json()["checks"]["plans"] == {
        "status": "healthy",
        "not_entitled": [],
    }


# --- durations and sharing an emulator --------------------------------------------------------


def test_a_duration_switches_the_scenario_off_by_itself(
    stack: LocalStack, client: httpx.Client, operator: dict[str, str]
) -> None:
    state = switch(client, operator, "finnhub_500", True, duration_s=1)
    assert 0 < state["remaining_s"] <= 1
    assert scenarios(client, operator)["finnhub_500"]["enabled"]
    time.sleep(1.3)
    assert not scenarios(client, operator)["finnhub_500"]["enabled"]
    assert emulator_fault(stack, "finnhub") is None


def test_switching_off_leaves_another_scenarios_fault_in_place(
    stack: LocalStack, client: httpx.Client, operator: dict[str, str]
) -> None:
    switch(client, operator, "slow_upstream", True)
    switch(client, operator, "tiingo_500", True)  # Tiingo holds one fault: this one now
    listed = scenarios(client, operator)
    assert listed["tiingo_500"]["enabled"] and not listed["slow_upstream"]["enabled"]
    switch(client, operator, "slow_upstream", False)
    assert emulator_fault(stack, "tiingo") == "http_500"
    assert emulator_fault(stack, "finnhub") is None
    switch(client, operator, "tiingo_500", False)
    assert emulator_fault(stack, "tiingo") is None


# --- where there is no emulator -----------------------------------------------------------------


def test_dev_without_emulators_says_the_scenario_cannot_be_switched(
    stack: LocalStack, operator: dict[str, str]
) -> None:
    # Given dev in AWS: the providers' real URLs, no emulator to switch
    assert stack.settings is not None
    real = stack.settings.model_copy(
        update={
            "environment": "dev",
            "tiingo_base_url": "https://api.tiingo.com",
            "finnhub_base_url": "https://finnhub.io/api/v1",
            "sendgrid_base_url": "https://api.sendgrid.com",
        }
    )
    with function_instance(real, dynamodb_table(stack.settings)) as instance:
        refused = instance.post(
            "/api/v2/ops/chaos", headers=operator, json={"scenario": "tiingo_500", "enabled": True}
        )
        assert refused.status_code == 409 and error_code(refused) == "CHAOS_UNAVAILABLE"
        assert refused.json()["error"]["details"]["providers"] == ["tiingo"]
        listed = instance.get("/api/v2/ops/chaos", headers=operator).json()["scenarios"]
        assert not any(s["available"] for s in listed.values())
        assert "no emulator" in listed["sendgrid_429"]["reason"]


def test_an_emulator_that_does_not_answer_is_a_503(
    stack: LocalStack, operator: dict[str, str]
) -> None:
    assert stack.settings is not None
    gone = stack.settings.model_copy(update={"tiingo_base_url": f"http://127.0.0.1:{free_port()}"})
    with function_instance(gone, dynamodb_table(stack.settings)) as instance:
        refused = instance.post(
            "/api/v2/ops/chaos",
            headers=operator,
            json={"scenario": "tiingo_500", "enabled": True},
        )
        assert refused.status_code == 503 and error_code(refused) == "EMULATOR_UNAVAILABLE"
        assert int(refused.headers["Retry-After"]) >= 1
