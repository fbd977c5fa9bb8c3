"""Rate limits over HTTP with the default settings: a burst of 50 requests from one session
meets 429s with an honest Retry-After, ordinary paced use never does, health, the document,
preflight and the operator are never limited, and two function instances share a caller's
counts through the table."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.local.stack import LocalStack
from services.settings import Settings
from services.store.table import dynamodb_table
from tests.e2e.api_support import api_stack, error_code, function_instance, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DEFAULTS = Settings()
LIMIT = DEFAULTS.rate_limit_per_identity
WINDOW_S = DEFAULTS.rate_limit_window_s


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[LocalStack]:
    with api_stack(root, tmp_path_factory.mktemp("state"), default_rate_limits=True) as running:
        assert running.settings is not None
        limits = running.settings
        assert (limits.rate_limit_per_identity, limits.rate_limit_per_ip) == (
            DEFAULTS.rate_limit_per_identity,
            DEFAULTS.rate_limit_per_ip,
        )
        yield running


def wait_for_a_new_window() -> None:
    """Sleep into the start of the next window, so what follows is counted in one window
    (the previous one's count fades across a window's end, which would blur the figures)."""
    time.sleep(WINDOW_S - time.time() % WINDOW_S + 0.05)


def create_configuration(client: httpx.Client, headers: dict[str, str]) -> str:
    response = client.post(
        "/api/v2/configurations", headers=headers, json={"name": "Tech", "tickers": ["AAPL"]}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["config_id"])


def test_a_burst_of_50_from_one_session_meets_429s_with_retry_after(
    client: httpx.Client,
) -> None:
    # Given a session, as the seed's traffic generator starts one
    headers = sign_in(client)
    # When it sends 50 requests as fast as it can
    started = time.monotonic()
    answers = [client.get("/api/v2/configurations", headers=headers) for _ in range(50)]
    elapsed = time.monotonic() - started
    # Then the first ones are answered and the rest refused, each refusal saying when to retry
    codes = [a.status_code for a in answers]
    assert set(codes) == {200, 429}, codes
    first_refusal = codes.index(429)
    assert codes[first_refusal:] == [429] * (50 - first_refusal)
    # (a burst crossing a window's end may get a request or two more, never fewer)
    assert LIMIT <= first_refusal <= LIMIT + 3, (first_refusal, elapsed)
    refused = answers[-1]
    assert error_code(refused) == "RATE_LIMITED"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 2 * WINDOW_S
    assert refused.json()["error"]["details"]["retry_after_s"] == retry_after
    assert refused.headers["X-Correlation-ID"]
    # And after waiting as told, the same session is answered again
    time.sleep(retry_after)
    assert client.get("/api/v2/configurations", headers=headers).status_code == 200


def test_another_session_from_the_same_address_is_not_held_back_by_one_that_is(
    client: httpx.Client,
) -> None:
    greedy, polite = sign_in(client), sign_in(client)
    for _ in range(LIMIT + 5):
        client.get("/api/v2/auth/me", headers=greedy)
    assert client.get("/api/v2/auth/me", headers=greedy).status_code == 429
    assert client.get("/api/v2/auth/me", headers=polite).status_code == 200


def test_a_dashboard_polling_every_couple_of_seconds_never_meets_a_429(
    client: httpx.Client,
) -> None:
    # Given a session whose workbench opens: its tiles load at once
    headers = sign_in(client)
    config_id = create_configuration(client, headers)
    tiles = [
        "/api/v2/auth/me",
        "/api/v2/configurations",
        f"/api/v2/configurations/{config_id}",
        f"/api/v2/configurations/{config_id}/sentiment",
        "/api/v2/alerts",
        "/api/v2/alerts/quota",
        "/api/v2/tickers/search?q=MS",
        "/api/v2/tickers/search?q=AA",
        "/api/v2/tickers/validate?symbol=MSFT",
        "/api/v2/tickers/AAPL/sentiment/history?range=1W",
    ]
    codes = [client.get(path, headers=headers).status_code for path in tiles]
    # When it then polls four routes every two seconds, across more than one window
    polled = tiles[:4]
    deadline = time.monotonic() + 1.5 * WINDOW_S
    while time.monotonic() < deadline:
        codes += [client.get(path, headers=headers).status_code for path in polled]
        time.sleep(2.0)
    # Then every answer is an answer, none a refusal
    assert set(codes) == {200}, codes


def test_health_the_document_preflight_and_the_operator_are_never_limited(
    stack: LocalStack, client: httpx.Client, operator: dict[str, str]
) -> None:
    assert stack.settings is not None
    preflight = {
        "Origin": stack.settings.cors_allow_origin,
        "Access-Control-Request-Method": "GET",
    }
    codes: set[int] = set()
    for _ in range(2 * LIMIT):
        codes.add(client.get("/health").status_code)
        codes.add(client.get("/api/v2/openapi.json").status_code)
        codes.add(client.options("/api/v2/configurations", headers=preflight).status_code)
        codes.add(client.get("/api/v2/ops/caches", headers=operator).status_code)
    assert codes == {200, 204}
    # The operator's token is exempt on its own routes only: elsewhere it is a caller like any
    statuses = [client.get("/api/v2/tickers/search?q=MS", headers=operator).status_code]
    statuses += [
        client.get("/api/v2/tickers/search?q=MS", headers=operator).status_code
        for _ in range(LIMIT)
    ]
    assert statuses.count(429) >= 1


def test_two_function_instances_share_a_callers_counts(stack: LocalStack) -> None:
    # Given a second function instance on the same table (its memory starts empty)
    assert stack.api is not None and stack.settings is not None
    table = dynamodb_table(stack.settings)
    with (
        httpx.Client(base_url=stack.api.url, timeout=60) as first,
        function_instance(stack.settings, table) as second,
    ):
        headers = sign_in(first)
        wait_for_a_new_window()
        # When a session spends 30 of its 40 on the first instance, which shares its counts at
        # its next exchange (a second on, or once a caller made a quarter of its limit)
        assert all(
            first.get("/api/v2/auth/me", headers=headers).status_code == 200 for _ in range(30)
        )
        time.sleep(DEFAULTS.rate_limit_sync_interval_s + 0.1)
        assert first.get("/api/v2/auth/me", headers=headers).status_code == 200
        # Then the second instance admits only what is left of the 40, not another 40
        codes = [second.get("/api/v2/auth/me", headers=headers).status_code for _ in range(20)]
        admitted = codes.count(200)
        # (the 31st request was counted after its instance's exchange: 40 - 30 = 10 are left)
        assert admitted == LIMIT - 30, codes
        assert codes[admitted:] == [429] * (20 - admitted)
