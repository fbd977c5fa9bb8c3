"""Many callers at once: each request is answered for its own bearer, never another's (the
resolver keeps the current request in process-wide state, so the server must not interleave
handler calls), and nothing fails under the load."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from services.local.stack import LocalStack
from tests.e2e.api_support import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CALLERS = 24
ROUNDS = 10


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
