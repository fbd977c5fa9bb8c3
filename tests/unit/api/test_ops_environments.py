"""`GET /api/v2/ops/environments`: the runtime's execution environments for the operator; a
runtime that does not know them says so."""

from __future__ import annotations

import os
from typing import Any

import pytest

from services.api.app import build_app
from services.composition.api import table_api_dependencies
from services.observability import get_logger
from services.settings import Settings
from services.store.sessions import token_hash
from tests.unit.resolve import resolve_get

pytestmark = pytest.mark.unit

OPERATOR = "operator-secret"
LISTED = [
    {"pid": 11, "cold_start_ms": 412.5, "registered_at": "2026-12-06T05:00:00Z",
     "requests_served": 7, "busy": True},
    {"pid": 12, "cold_start_ms": 398.0, "registered_at": "2026-12-06T05:00:01Z",
     "requests_served": 3, "busy": False},
]  # fmt: skip


def app(listing: Any = None) -> Any:
    settings = Settings(operator_token_sha256=token_hash(OPERATOR), rate_limit_enabled=False)
    deps = table_api_dependencies(settings, execution_environments=listing)
    return build_app(deps, get_logger("ops-environments-test", "WARNING"))


def test_the_operator_gets_each_environment_and_who_answered() -> None:
    status, body = resolve_get(app(lambda: LISTED), "/api/v2/ops/environments", OPERATOR)

    assert status == 200
    assert body == {"answered_by": os.getpid(), "environments": LISTED}


def test_a_runtime_that_does_not_list_its_environments_says_so() -> None:
    status, body = resolve_get(app(), "/api/v2/ops/environments", OPERATOR)

    assert status == 501 and body["error"]["code"] == "NOT_AVAILABLE"


@pytest.mark.parametrize("token", [None, "not-the-operator"])
def test_only_the_operator_may_look(token: str | None) -> None:
    status, body = resolve_get(app(lambda: LISTED), "/api/v2/ops/environments", token)

    assert status == 401 and body["error"]["code"] == "UNAUTHORIZED"
