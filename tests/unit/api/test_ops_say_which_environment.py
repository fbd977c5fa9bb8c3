"""Logs and traces live in the memory of the execution environment that made them: the ops
routes that read them say which environment answered."""

from __future__ import annotations

from typing import Any

import pytest

from services.api.app import build_app
from services.api.dependencies import ApiDependencies
from services.clock import utc_now
from services.composition.api import table_api_dependencies
from services.metrics.requests import RequestMetrics
from services.observability import get_logger
from services.settings import Settings
from services.store.sessions import token_hash
from tests.unit.resolve import resolve_get

pytestmark = pytest.mark.unit

OPERATOR = "operator-secret"


def get(deps: ApiDependencies, path: str) -> tuple[int, Any]:
    return resolve_get(build_app(deps, get_logger("test", "WARNING")), path, OPERATOR)


@pytest.fixture
def deps(moto_table: Any) -> ApiDependencies:
    settings = Settings(operator_token_sha256=token_hash(OPERATOR), rate_limit_enabled=False)
    return table_api_dependencies(settings, table=moto_table)


def test_logs_and_traces_name_the_environment_that_answered(deps: ApiDependencies) -> None:
    for path in ("/api/v2/ops/logs", "/api/v2/ops/traces"):
        status, body = get(deps, path)
        assert status == 200, body
        assert body["scope"] == "environment"
        assert body["environment"]["instance"] == deps.instance


def test_a_trace_not_kept_here_says_another_environment_may_hold_it(
    deps: ApiDependencies,
) -> None:
    status, body = get(deps, "/api/v2/ops/traces/unknown-request")
    assert status == 404
    assert deps.instance in body["error"]["message"]
    assert "another environment" in body["error"]["message"]


def test_the_request_metrics_and_the_cache_counters_share_the_environment_id(
    deps: ApiDependencies,
) -> None:
    assert deps.request_metrics.instance == deps.shared_caches.instance == deps.instance


class Sink:
    def put_api_minute(self, *_: Any) -> None:
        pass


def test_every_recorded_request_lets_other_figures_publish_when_due() -> None:
    calls: list[int] = []

    def publish() -> None:
        calls.append(1)
        raise ConnectionError("the table is away")  # never fails the request

    metrics = RequestMetrics("i1", Sink(), utc_now, after_record=publish)
    metrics.record("GET /health", 200, 1.0)
    metrics.record("GET /health", 200, 1.0)
    assert len(calls) == 2
