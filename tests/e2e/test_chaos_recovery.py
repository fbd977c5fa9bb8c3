"""Each of the four fault scenarios (`free_plan_keys` opens no circuit: `test_chaos.py`), switched
through `/api/v2/ops/chaos`, end to end: the failing service's circuit opens (seen through
`/ops/circuits`), the API degrades as the Deep Dive page says, the scenario ends by itself, the
circuit goes half-open and one trial closes it, and nothing is lost: every story the emulators
returned is stored and analyzed once, and an e-mail queued during the outage is delivered once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.clock import utc_now
from services.local.stack import LocalStack
from services.settings import Settings
from services.store.outbox import DynamoOutbox, OutboxEmail
from services.store.table import dynamodb_table
from tests.e2e.api_support import error_code, news_stack, sign_in, wait_for
from tests.e2e.test_news_pipeline import WATCHLIST, assert_table_matches_oracle, settle

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

OPEN_TIMEOUT_S = 2.0
# A safety net: the test switches each scenario off itself once its circuits are open.
FAULT_S = 60.0
FAILING = {
    "tiingo_500": ("tiingo",),
    "finnhub_500": ("finnhub",),
    "slow_upstream": ("tiingo", "finnhub"),
    "sendgrid_429": ("sendgrid",),
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[LocalStack]:
    settings = Settings(
        default_watchlist=",".join(WATCHLIST),
        http_timeout_s=0.5,
        circuit_open_timeout_s=OPEN_TIMEOUT_S,
        # The API's copy of a circuit another function closed is at most this old.
        circuit_cache_ttl_s=1,
        email_retry_max_s=1,
    )
    with news_stack(
        root, tmp_path_factory.mktemp("state"), settings, notifications=True
    ) as running:
        yield running


def circuits(client: httpx.Client, operator: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v2/ops/circuits", headers=operator)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def states(client: httpx.Client, operator: dict[str, str]) -> dict[str, str]:
    return {name: c["state"] for name, c in circuits(client, operator)["circuits"].items()}


def cycle(client: httpx.Client, operator: dict[str, str]) -> dict[str, Any]:
    response = client.post("/api/v2/ops/ingestion/run", headers=operator)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def queue_email(stack: LocalStack, address: str) -> OutboxEmail:
    now = utc_now()
    email = OutboxEmail(
        idempotency_key=f"chaos:{address}",
        kind="alert",
        user_id=None,
        to=address,
        subject="queued during the outage",
        text="...",
        created_at=now,
        deliver_by=now + timedelta(hours=1),
        next_attempt_at=now,
    )
    DynamoOutbox(dynamodb_table(stack.settings)).enqueue(email)  # type: ignore[arg-type]
    return email


def received(stack: LocalStack, address: str) -> list[dict[str, Any]]:
    sendgrid = stack.describe()["sendgrid_url"]
    found: list[dict[str, Any]] = httpx.get(
        f"{sendgrid}/_emulator/outbox", params={"to": address}, timeout=10
    ).json()
    return found


def sentiment_status(client: httpx.Client) -> dict[str, str]:
    """`source_status` of a new watchlist's sentiment (a new one: no cached answer)."""
    bearer = {"Authorization": f"Bearer {client.post('/api/v2/auth/anonymous').json()['token']}"}
    config = client.post(
        "/api/v2/configurations", headers=bearer, json={"name": "chaos", "tickers": WATCHLIST}
    )
    assert config.status_code == 201, config.text
    answer = client.get(f"/api/v2/configurations/{config.json()['config_id']}/sentiment",
                        headers=bearer)  # fmt: skip
    assert answer.status_code == 200, answer.text
    status: dict[str, str] = answer.json()["source_status"]
    return status


@pytest.mark.parametrize("scenario", list(FAILING))
def test_a_scenario_opens_its_circuits_degrades_recovers_and_loses_nothing(
    stack: LocalStack, client: httpx.Client, operator: dict[str, str], scenario: str
) -> None:
    failing = FAILING[scenario]
    started = utc_now()
    assert set(states(client, operator).values()) == {"closed"}
    address = f"chaos-{uuid.uuid4().hex[:8]}@example.com"
    tiingo = stack.describe()["tiingo_url"]
    for ticker in WATCHLIST:
        injected = httpx.post(f"{tiingo}/_emulator/news", json={"ticker": ticker, "count": 4})
        assert injected.status_code == 201

    # When the scenario is switched on
    switched = client.post(
        "/api/v2/ops/chaos",
        headers=operator,
        json={"scenario": scenario, "enabled": True, "duration_s": FAULT_S},
    )
    assert switched.status_code == 200, switched.text

    # Then the failing services' circuits open, and the API degrades as described
    if scenario == "sendgrid_429":
        queued = queue_email(stack, address)
        refused = [
            client.post("/api/v2/auth/magic-link", json={"email": f"{n}-{address}"})
            for n in range(6)
        ]
        assert {r.status_code for r in refused} == {503}
        assert {error_code(r) for r in refused} == {"EMAIL_UNAVAILABLE"}
        assert all(r.headers["Retry-After"] for r in refused)
    else:
        for _ in range(6):
            summary = cycle(client, operator)
            for service in failing:
                assert service in summary["errors"], summary
            healthy = {"tiingo", "finnhub"} - set(failing)
            for service in healthy:  # ingestion carries on with the other source
                assert service not in summary["errors"] and summary["fetched"][service] > 0
            if all(states(client, operator)[s] != "closed" for s in failing):
                break
        if "tiingo" in failing:
            prices = client.get(
                "/api/v2/tickers/JPM/ohlc?range=6M&resolution=D", headers=sign_in(client)
            )
            assert prices.status_code == 503 and error_code(prices) == "PROVIDER_UNAVAILABLE"
        # ... sentiment still answers, and says which sources are not answering
        status = sentiment_status(client)
        assert all(status[s] != "ok" for s in failing), status
        assert all(status[s] == "ok" for s in {"tiingo", "finnhub"} - set(failing)), status
    opened = states(client, operator)
    # (A circuit that opened first may already be half-open: its open timeout is short here.)
    assert all(opened[s] in ("open", "half_open") for s in failing), opened
    assert all(opened[s] == "closed" for s in set(opened) - set(failing)), opened
    health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert set(health["checks"]["circuits"]["open"]) == set(failing)

    # When the upstream recovers (the scenario switched off) and the open timeout has passed
    ended = client.post(
        "/api/v2/ops/chaos", headers=operator, json={"scenario": scenario, "enabled": False}
    )
    assert ended.status_code == 200, ended.text
    # Half-open, or already closed again: the notification schedule comes round every half
    # second, so its trial may close the e-mail circuit between two polls. The transitions
    # below show each circuit went through half-open.
    wait_for(
        "the open timeout to pass",
        lambda: all(states(client, operator)[s] in ("half_open", "closed") for s in failing),
        OPEN_TIMEOUT_S + 5,
    )

    # Then one trial closes each circuit
    if scenario == "sendgrid_429":
        wait_for("the queued e-mail", lambda: received(stack, address))
    else:
        recovered = cycle(client, operator)
        assert recovered["errors"] == {}, recovered
        wait_for(
            "sources ok again",
            lambda: sentiment_status(client) == {"tiingo": "ok", "finnhub": "ok"},
        )
    assert set(states(client, operator).values()) == {"closed"}
    changes = [
        (t["service"], t["from"], t["to"])
        for t in circuits(client, operator)["transitions"]
        if t["at"] >= started.isoformat().replace("+00:00", "Z")
    ]
    for service in failing:
        mine = [(f, t) for s, f, t in reversed(changes) if s == service]
        # Opened once; a trial during the outage may have reopened it; one trial closed it.
        assert mine[0] == ("closed", "open"), mine
        assert mine[-2:] == [("open", "half_open"), ("half_open", "closed")], mine
        assert set(mine[1:-2]) <= {("open", "half_open"), ("half_open", "open")}, mine
    assert client.get("/health").json()["checks"]["circuits"]["status"] == "healthy"

    # And nothing was lost
    if scenario == "sendgrid_429":
        time.sleep(1.5)  # further delivery runs
        mails = received(stack, address)
        assert len(mails) == 1
        assert mails[0]["headers"]["X-Entity-Ref-ID"] == queued.email_id
    else:
        settle(stack)
        assert_table_matches_oracle(stack)
