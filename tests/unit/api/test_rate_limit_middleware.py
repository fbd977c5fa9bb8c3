"""The rate limit in the real dashboard function, called in process: what it counts a request
under, what it leaves alone, and the 429 it answers."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from services.api.dependencies import ApiDependencies
from services.api.rate_limiting import address_key
from services.functions.dashboard import Dashboard, build_dashboard
from services.local.function_url import LocalLambdaContext, build_event
from services.settings import Settings
from services.store.memory import InMemorySessionRepository
from services.store.sessions import token_hash
from tests.unit.support.memory_api import memory_api_dependencies

pytestmark = pytest.mark.unit

OPERATOR = "operator-secret"
SEARCH = "/api/v2/tickers/search?q=AA"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_app(**settings: Any) -> tuple[Dashboard, ApiDependencies]:
    limits = {"rate_limit_per_identity": 3, "rate_limit_per_ip": 5, "rate_limit_window_s": 10}
    chosen = Settings(operator_token_sha256=token_hash(OPERATOR), **{**limits, **settings})
    # The API over the memory store, its rate limit on the test's clock.
    deps = memory_api_dependencies(chosen, seconds=Clock())
    deps.store = replace(deps.store, sessions=InMemorySessionRepository())
    return build_dashboard(deps), deps


def call(
    app: Dashboard,
    path: str = SEARCH,
    *,
    method: str = "GET",
    token: str | None = None,
    ip: str = "10.0.0.1",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    sent = {**(headers or {})}
    if token:
        sent["authorization"] = f"Bearer {token}"
    event = build_event(
        method=method, raw_path=path, headers=sent, body=b"", source_ip=ip, domain="local"
    )
    return app(event, LocalLambdaContext(function_name="t", aws_request_id="r"))


def statuses(app: Dashboard, n: int, **kwargs: Any) -> list[int]:
    return [call(app, **kwargs)["statusCode"] for _ in range(n)]


def test_a_session_over_its_limit_gets_429_with_retry_after_and_the_envelope() -> None:
    app, _ = make_app()
    assert statuses(app, 4, token="alice") == [200, 200, 200, 429]
    refused = call(app, token="alice")
    headers = {k.lower(): v for k, v in refused["headers"].items()}
    body = json.loads(refused["body"])
    assert refused["statusCode"] == 429
    assert int(headers["retry-after"]) >= 1 and headers["x-correlation-id"]
    assert body["error"]["code"] == "RATE_LIMITED"
    assert body["error"]["details"]["limit"] == "identity"
    assert body["error"]["details"]["retry_after_s"] == int(headers["retry-after"])


def test_sessions_have_their_own_budgets_within_their_address() -> None:
    app, _ = make_app()
    assert statuses(app, 3, token="alice") == [200] * 3
    # bob's session is fresh, but the address has 2 of 5 left
    assert statuses(app, 3, token="bob") == [200, 200, 429]
    # another address is untouched
    assert statuses(app, 1, token="carol", ip="10.0.0.2") == [200]


def test_callers_without_a_token_are_counted_by_address_and_forwarded_for_is_ignored() -> None:
    app, _ = make_app()
    spoofed = [{"x-forwarded-for": f"192.0.2.{i}"} for i in range(6)]
    answers = [call(app, headers=h)["statusCode"] for h in spoofed]
    assert answers == [200] * 5 + [429]


def test_the_document_preflight_and_the_operator_are_not_counted() -> None:
    app, deps = make_app()
    # (/health is exempt too; it reads the table, so the end-to-end tests show it.)
    preflight = {"origin": deps.settings.cors_allow_origin, "access-control-request-method": "GET"}
    for _ in range(10):
        assert call(app, "/api/v2/openapi.json")["statusCode"] == 200
        assert call(app, SEARCH, method="OPTIONS", headers=preflight)["statusCode"] == 204
        assert call(app, "/api/v2/ops/caches", token=OPERATOR)["statusCode"] == 200
    limiter = deps.rate_limiter
    assert limiter is not None and limiter.stats.checks == 0
    # The ops routes without the operator token are counted like any other request
    assert statuses(app, 4, path="/api/v2/ops/caches", token="guess") == [401] * 3 + [429]


def test_switched_off_no_request_is_limited() -> None:
    app, deps = make_app(rate_limit_enabled=False)
    assert deps.rate_limiter is None
    assert set(statuses(app, 50, token="alice")) == {200}


def test_ipv6_callers_are_counted_per_64_block() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("10.0.0.1") == "10.0.0.1"
