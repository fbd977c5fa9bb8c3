"""Whole numbers in query strings are ASCII digits only: anything else `int()` or `isdigit()`
would take (superscripts, other scripts' digits, separators, signs, spaces) is a 400
BAD_PARAMETER naming the parameter, never a 500."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from services.api.errors import ApiError
from services.api.query_params import bounded_whole_number
from services.composition.api import table_api_dependencies
from services.functions.dashboard import Dashboard, build_dashboard
from services.local.function_url import LocalLambdaContext, build_event
from services.settings import Settings
from services.store.sessions import token_hash

pytestmark = pytest.mark.unit

OPERATOR = "operator-secret"
NOT_WHOLE_NUMBERS = [
    "\u00b2",
    "\u0661\u0662",
    "\U0001d7d9",
    "1_0",
    "+5",
    "-1",
    "1.0",
    "0x10",
    "1e3",
    "9" * 40,
    "0",
]


@pytest.fixture(scope="module")
def dashboard() -> Dashboard:
    settings = Settings(operator_token_sha256=token_hash(OPERATOR), rate_limit_enabled=False)
    return build_dashboard(table_api_dependencies(settings))


def logs(dashboard: Dashboard, limit: str) -> tuple[int, Any]:
    event = build_event(
        method="GET",
        raw_path=f"/api/v2/ops/logs?limit={quote(limit)}",
        headers={"authorization": f"Bearer {OPERATOR}"},
        body=b"",
        source_ip="10.0.0.1",
        domain="t",
    )
    answer = dashboard(event, LocalLambdaContext(function_name="t", aws_request_id="r"))
    return int(answer["statusCode"]), json.loads(answer["body"])


@pytest.mark.parametrize("limit", NOT_WHOLE_NUMBERS)
def test_a_log_limit_that_is_not_ascii_digits_is_a_400_naming_limit(
    dashboard: Dashboard, limit: str
) -> None:
    status, body = logs(dashboard, limit)
    assert status == 400, body
    assert body["error"]["code"] == "BAD_PARAMETER"
    assert body["error"]["details"] == {"field": "limit"}
    assert "limit" in body["error"]["message"]


def test_a_log_limit_of_ascii_digits_is_taken(dashboard: Dashboard) -> None:
    status, body = logs(dashboard, "7")
    assert status == 200 and body["count"] <= 7


@pytest.mark.parametrize("raw", NOT_WHOLE_NUMBERS)
def test_bounded_whole_number_refuses_what_is_not_ascii_digits(raw: str) -> None:
    with pytest.raises(ApiError) as refused:
        bounded_whole_number(raw, name="n", low=1, high=500, default=100)
    assert (refused.value.status, refused.value.details) == (400, {"field": "n"})


def test_bounded_whole_number_takes_digits_in_range_and_defaults_when_absent() -> None:
    assert bounded_whole_number("500", name="n", low=1, high=500, default=100) == 500
    assert bounded_whole_number(None, name="n", low=1, high=500, default=100) == 100
