"""Many callers at once, served by several execution environments: each request is answered
for its own bearer, never another's (the resolver keeps the current request in process-wide
state, so an environment serves one request at a time), nothing fails under the load, and a
request one environment is held by does not hold up the others."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from services.local.stack import LocalStack
from services.settings import Settings
from tests.e2e.api_support import api_stack, error_code, operator_headers, sign_in, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CALLERS = 24
ROUNDS = 10


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[LocalStack]:
    """Two execution environments at least, and the provider emulators (for their faults)."""
    with api_stack(
        root,
        tmp_path_factory.mktemp("state"),
        settings=Settings(default_watchlist="AAPL,MSFT"),
        pipeline=True,
        schedules=False,
        api_workers=2,
    ) as running:
        yield running


def test_concurrent_callers_each_get_their_own_identity(
    stack: LocalStack, client: httpx.Client
) -> None:
    assert stack.api is not None
    callers = []
    for _ in range(CALLERS):
        headers = sign_in(client)
        me = client.get("/api/v2/auth/me", headers=headers).json()
        callers.append((headers, me["user_id"]))

    def ask_repeatedly(caller: tuple[dict[str, str], str]) -> list[str]:
        headers, _ = caller
        with httpx.Client(base_url=stack.api.url, timeout=60) as own:  # type: ignore[union-attr]
            answers = []
            for _ in range(ROUNDS):
                response = own.get("/api/v2/auth/me", headers=headers)
                assert response.status_code == 200, response.text
                answers.append(response.json()["user_id"])
            return answers

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        results = list(pool.map(ask_repeatedly, callers))
    for (_, user_id), answers in zip(callers, results, strict=True):
        assert answers == [user_id] * ROUNDS


def test_a_request_held_by_one_environment_does_not_hold_up_another(
    stack: LocalStack, client: httpx.Client
) -> None:
    # Given the price provider answering only after the adapters' timeout (a held request)
    assert stack.api is not None
    operator = operator_headers(stack)
    chaos = {"scenario": "slow_upstream", "enabled": True}
    assert client.post("/api/v2/ops/chaos", headers=operator, json=chaos).status_code == 200
    session = sign_in(client)
    try:
        with ThreadPoolExecutor(max_workers=1) as background:
            # When one environment fetches a price the cache lacks
            held = background.submit(
                client.get, "/api/v2/tickers/NVDA/ohlc?range=6M", headers=session
            )
            wait_for("an environment to be busy", lambda: _busy(stack) == 1, timeout_s=30)
            # Then health and a signed-in read are answered by another while it is pending
            health = client.get("/health")
            me = client.get("/api/v2/auth/me", headers=session)
            still_pending = not held.done()
            slow = held.result()
    finally:
        chaos["enabled"] = False
        client.post("/api/v2/ops/chaos", headers=operator, json=chaos)
    assert health.status_code == 200 and me.status_code == 200, (health.text, me.text)
    assert still_pending, "the held request finished before the others were answered"
    assert slow.status_code == 503 and error_code(slow) == "PROVIDER_UNAVAILABLE"


def _busy(stack: LocalStack) -> int:
    assert stack.api is not None
    return sum(1 for e in stack.api.environments() if e["busy"])


def test_the_operator_sees_every_environment_with_its_cold_start(
    stack: LocalStack, client: httpx.Client
) -> None:
    response = client.get("/api/v2/ops/environments", headers=operator_headers(stack))

    assert response.status_code == 200, response.text
    listed = response.json()
    pids = {e["pid"] for e in listed["environments"]}
    assert len(pids) == 2 and listed["answered_by"] in pids
    assert all(e["cold_start_ms"] > 0 for e in listed["environments"])
    assert client.get("/api/v2/ops/environments").status_code == 401
