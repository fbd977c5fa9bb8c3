"""`/api/v2/ops/chaos` and `free_plan_keys` in the real app over a moto table, the Tiingo and
Finnhub emulators answering the control calls without sockets: the scenario puts them on the
free plan for its duration, and switching it off, or a read once the duration has ended,
forgets the refusals the stack recorded, so the endpoints are called again."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver
from boto3.dynamodb.conditions import Key
from moto import mock_aws

from services.adapters.errors import ProviderNotEntitledError
from services.adapters.plans import Endpoint
from services.api.app import build_app
from services.api.dependencies import ApiDependencies
from services.composition.api import table_api_dependencies
from services.local.emulators.base import EmulatorServer, Request
from services.local.emulators.finnhub import FinnhubEmulator
from services.local.emulators.tiingo import TiingoEmulator
from services.local.emulators.world import NewsWorld
from services.local.function_url import LocalLambdaContext, build_event
from services.observability import get_logger
from services.resilience.chaos import ChaosSwitches
from services.settings import Settings
from services.store import keys
from services.store.schema import create_table_request
from services.store.sessions import token_hash

pytestmark = pytest.mark.unit

OPERATOR = "operator-secret"
TIINGO_ROOT, FINNHUB_ROOT = "http://127.0.0.1:9101", "http://127.0.0.1:9102"
# The providers' words, as the adapters keep them in a refusal's reason.
REASONS: dict[tuple[str, Endpoint], str] = {
    ("tiingo", "news"): "You do not have permission to access the News API",
    ("finnhub", "news_sentiment"): "You don't have access to this resource.",
}


@dataclass
class Stack:
    deps: ApiDependencies
    app: LambdaFunctionUrlResolver
    tiingo: TiingoEmulator
    finnhub: FinnhubEmulator

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        event = build_event(
            method=method,
            raw_path=path,
            headers={"authorization": f"Bearer {OPERATOR}", "content-type": "application/json"},
            body=b"" if body is None else json.dumps(body).encode(),
            source_ip="10.0.0.1",
            domain="t",
        )
        answer = self.app.resolve(event, LocalLambdaContext(function_name="t", aws_request_id="r"))
        return int(answer["statusCode"]), json.loads(answer["body"])

    def switch(self, enabled: bool, **extra: Any) -> dict[str, Any]:
        body = {"scenario": "free_plan_keys", "enabled": enabled, **extra}
        status, answer = self.call("POST", "/api/v2/ops/chaos", body)
        assert status == 200, answer
        return dict(answer)

    def refused_by_the_providers(self) -> None:
        """What an ingestion cycle records when the providers answer "not in your plan"."""
        for (provider, endpoint), reason in REASONS.items():
            self.deps.entitlements.record(
                ProviderNotEntitledError(provider, "403", 403, endpoint=endpoint, reason=reason)
            )

    def stored_refusals(self) -> list[dict[str, Any]]:
        table = boto3.resource("dynamodb", region_name="us-east-1").Table("chaos")
        query = table.query(KeyConditionExpression=Key("PK").eq(keys.ENTITLEMENTS))
        return list(query["Items"])


def emulators_transport(emulators: dict[str, EmulatorServer]) -> httpx.MockTransport:
    """Control calls answered by the emulators' own `handle`, as their server would."""

    def answer(request: httpx.Request) -> httpx.Response:
        emulator = emulators[f"{request.url.scheme}://{request.url.netloc.decode()}"]
        body = json.loads(request.content) if request.content else None
        found = emulator.handle(Request(request.method, request.url.path, {}, {}, body))
        return httpx.Response(found.status, json=found.body)

    return httpx.MockTransport(answer)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    world = NewsWorld(seed=5)
    tiingo, finnhub = TiingoEmulator(world, "t-key"), FinnhubEmulator(world, "f-key")
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name="us-east-1")
        resource.meta.client.create_table(**create_table_request("chaos"))
        settings = Settings(
            environment="local",
            operator_token_sha256=token_hash(OPERATOR),
            rate_limit_enabled=False,
            tiingo_base_url=TIINGO_ROOT,
            finnhub_base_url=f"{FINNHUB_ROOT}/api/v1",
        )
        deps = table_api_dependencies(settings, table=resource.Table("chaos"))
        deps.chaos = ChaosSwitches(
            {"tiingo": TIINGO_ROOT, "finnhub": FINNHUB_ROOT, "sendgrid": None},
            slow_delay_s=2.0,
            default_duration_s=3600.0,
            timeout_s=1.0,
            client=httpx.Client(
                transport=emulators_transport({TIINGO_ROOT: tiingo, FINNHUB_ROOT: finnhub})
            ),
        )
        app = build_app(deps, get_logger("ops-chaos-test", "WARNING"))
        yield Stack(deps, app, tiingo, finnhub)


def test_free_plan_keys_is_listed_with_its_description(stack: Stack) -> None:
    status, body = stack.call("GET", "/api/v2/ops/chaos")
    assert status == 200
    listed = body["scenarios"]["free_plan_keys"]
    assert listed["available"] and not listed["enabled"]
    assert listed["targets"] == {
        "tiingo": {"mode": "paid", "remaining_s": 0.0, "injected": 0},
        "finnhub": {"mode": "paid", "remaining_s": 0.0, "injected": 0},
    }
    assert "not_entitled" in listed["description"] and "our model" in listed["description"]


def test_switched_off_the_emulators_are_paid_again_and_the_refusals_are_forgotten(
    stack: Stack,
) -> None:
    # Given the scenario on and the refusals a cycle recorded
    on = stack.switch(True, duration_s=120)
    assert on["enabled"] and 0 < on["remaining_s"] <= 120
    assert stack.tiingo.plan == stack.finnhub.plan == "free"
    stack.refused_by_the_providers()
    assert len(stack.stored_refusals()) == 2
    _, health = stack.call("GET", "/health")
    assert health["checks"]["plans"]["status"] == "degraded"
    # When it is switched off
    off = stack.switch(False)
    # Then the emulators play the paid plan, and the stack calls the endpoints again
    assert not off["enabled"] and {t["mode"] for t in off["targets"].values()} == {"paid"}
    assert stack.tiingo.plan == stack.finnhub.plan == "paid"
    assert stack.stored_refusals() == []
    assert stack.deps.entitlements.refusal("tiingo", "news") is None
    _, health = stack.call("GET", "/health")
    assert health["checks"]["plans"] == {"status": "healthy", "not_entitled": []}


def test_a_read_after_the_duration_ended_forgets_the_refusals(stack: Stack) -> None:
    stack.switch(True, duration_s=0.3)
    stack.refused_by_the_providers()
    _, listed = stack.call("GET", "/api/v2/ops/chaos")
    assert listed["scenarios"]["free_plan_keys"]["enabled"]
    assert len(stack.stored_refusals()) == 2  # still on: the refusals hold
    time.sleep(0.35)
    # The emulators returned to the paid plan by themselves; this read notices
    _, listed = stack.call("GET", "/api/v2/ops/chaos")
    assert not listed["scenarios"]["free_plan_keys"]["enabled"]
    assert stack.stored_refusals() == []
    assert stack.deps.entitlements.refusals() == []


def test_switching_a_fault_scenario_off_forgets_nothing(stack: Stack) -> None:
    stack.refused_by_the_providers()
    status, body = stack.call(
        "POST", "/api/v2/ops/chaos", {"scenario": "tiingo_500", "enabled": False}
    )
    assert status == 200 and not body["enabled"]
    assert len(stack.stored_refusals()) == 2
