"""Requests the OpenAPI document does not declare, resolved by the real app in process: a
method a path has no route for, a body type or encoding no route reads, values of the wrong
JSON type; and what the document declares so that a client (or a fuzzer) can tell."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver
from hypothesis import given, settings
from hypothesis import strategies as st

from services.api.app import OPENAPI_PATH, build_app
from services.api.schemas import EMAIL_PATTERN, NAME_PATTERN
from services.auth.magic_link import normalise_email
from services.composition.api import table_api_dependencies
from services.local.function_url_event import LocalLambdaContext, build_event
from services.observability import get_logger
from services.settings import Settings

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def app() -> LambdaFunctionUrlResolver:
    # Every request here is answered before a route's handler runs: no table is needed.
    deps = table_api_dependencies(Settings(rate_limit_enabled=False))
    return build_app(deps, get_logger("undeclared-test", "WARNING"))


def call(
    app: LambdaFunctionUrlResolver,
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str = "application/json",
) -> tuple[int, dict[str, str], Any]:
    headers = {"content-type": content_type, "x-correlation-id": "trace-1"}
    event = build_event(
        method=method, raw_path=path, headers=headers, body=body, source_ip="10.0.0.1", domain="d"
    )
    result = app.resolve(event, LocalLambdaContext(function_name="t", aws_request_id="r"))
    answer_headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    return result["statusCode"], answer_headers, json.loads(result["body"] or "null")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/api/v2/configurations", "GET, POST"),
        ("PUT", "/api/v2/configurations/c-1", "DELETE, GET, PATCH"),
        ("POST", "/health", "GET"),
    ],
)
def test_a_method_the_path_has_no_route_for_is_a_405_with_allow(
    app: LambdaFunctionUrlResolver, method: str, path: str, allowed: str
) -> None:
    status, headers, body = call(app, method, path)

    assert status == 405
    assert headers["allow"] == allowed
    assert body["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert headers["x-correlation-id"] == "trace-1"


def test_a_path_no_route_serves_stays_a_404(app: LambdaFunctionUrlResolver) -> None:
    status, headers, body = call(app, "TRACE", "/api/v2/nothing-here")

    assert status == 404 and "allow" not in headers
    assert body["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data", "image/png"])
def test_a_body_that_is_not_json_is_a_415(
    app: LambdaFunctionUrlResolver, content_type: str
) -> None:
    # Given a body of another type sent to a route that reads application/json (was a 500)
    status, headers, body = call(
        app, "PATCH", "/api/v2/configurations/c-1", b'{"name": "x"}', content_type=content_type
    )

    assert status == 415
    assert body["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert headers["x-correlation-id"] == "trace-1"


def test_a_json_body_that_is_not_utf8_is_a_400_invalid_json(
    app: LambdaFunctionUrlResolver,
) -> None:
    # Given bytes that are not UTF-8 (the Function URL passes them base64-encoded)
    status, _, body = call(app, "POST", "/api/v2/alerts", b'{"config_id": "\xff"}')

    # Then the app says what is wrong with the body, rather than failing with a 500
    assert status == 400
    assert body["error"]["code"] == "INVALID_JSON"


@pytest.mark.parametrize(
    ("path", "method", "sent"),
    [
        ("/api/v2/notifications/preferences", "PATCH", {"digest_emails": 0}),
        ("/api/v2/notifications/preferences", "PATCH", {"alert_emails": "true"}),
        ("/api/v2/alerts/a-1", "PATCH", {"enabled": 1}),
        ("/api/v2/alerts/a-1", "PATCH", {"threshold": "0.5"}),
        ("/api/v2/configurations", "POST", {"name": "   ", "tickers": ["AAPL"]}),
        ("/api/v2/configurations", "POST", {"name": "x", "tickers": []}),
        ("/api/v2/auth/magic-link", "POST", {"email": ""}),
    ],
)
def test_a_value_the_document_refuses_is_refused_by_the_schema(
    app: LambdaFunctionUrlResolver, path: str, method: str, sent: dict[str, Any]
) -> None:
    status, _, body = call(app, method, path, json.dumps(sent).encode())

    assert status == 422, body
    assert body["error"]["code"] == "INVALID_BODY"


def test_the_document_declares_the_address_shape(app: LambdaFunctionUrlResolver) -> None:
    _, _, document = call(app, "GET", OPENAPI_PATH)
    email = document["components"]["schemas"]["MagicLinkIn"]["properties"]["email"]

    assert email["pattern"] == EMAIL_PATTERN and email["maxLength"] == 254


@settings(max_examples=300, deadline=None)
@given(address=st.from_regex(EMAIL_PATTERN, fullmatch=True).filter(lambda a: len(a) <= 254))
def test_every_address_the_document_allows_is_one_the_service_takes(address: str) -> None:
    assert normalise_email(address) == address.strip().lower()


def test_a_name_pattern_match_is_exactly_a_name_that_is_not_blank_once_trimmed() -> None:
    # Every code point that `str.strip` removes, and only those, fails the name's pattern.
    refused = {c for c in map(chr, range(0x110000)) if not re.fullmatch(NAME_PATTERN, c)}

    assert refused == {c for c in map(chr, range(0x110000)) if c.isspace()}


def test_the_document_links_created_items_to_the_operations_on_them(
    app: LambdaFunctionUrlResolver,
) -> None:
    _, _, document = call(app, "GET", OPENAPI_PATH)
    paths = document["paths"]
    config_links = paths["/api/v2/configurations"]["post"]["responses"]["201"]["links"]
    alert_links = paths["/api/v2/alerts"]["post"]["responses"]["201"]["links"]
    operation_ids = {op["operationId"] for ops in paths.values() for op in ops.values()}

    item = paths["/api/v2/configurations/{config_id}"]
    assert config_links["GetConfiguration"]["operationId"] == item["get"]["operationId"]
    assert config_links["DeleteConfiguration"]["parameters"] == {
        "config_id": "$response.body#/config_id"
    }
    assert config_links["CreateAlert"]["requestBody"]["config_id"] == "$response.body#/config_id"
    assert {"UpdateAlert", "DeleteAlert"} <= set(alert_links)
    linked = [
        link["operationId"] for links in (config_links, alert_links) for link in links.values()
    ]
    assert set(linked) <= operation_ids


def test_the_document_declares_405_everywhere_and_415_where_a_body_is_read(
    app: LambdaFunctionUrlResolver,
) -> None:
    _, _, document = call(app, "GET", OPENAPI_PATH)
    operations = [op for ops in document["paths"].values() for op in ops.values()]

    assert all("405" in op["responses"] for op in operations)
    assert all(("415" in op["responses"]) == ("requestBody" in op) for op in operations)


@pytest.mark.parametrize(
    "sent", [b'[{}, {"digest_emails": true}]', b"[]", b'"text"', b"7", b"null"]
)
def test_a_json_body_that_is_not_an_object_is_refused(
    app: LambdaFunctionUrlResolver, sent: bytes
) -> None:
    # Given an array where the route reads an object (its first item used to be taken instead)
    status, _, body = call(app, "PATCH", "/api/v2/notifications/preferences", sent)

    assert status == 422, body
    assert body["error"]["code"] == "INVALID_BODY"


def test_json_nested_deeper_than_the_parser_goes_is_invalid_json(
    app: LambdaFunctionUrlResolver,
) -> None:
    status, _, body = call(app, "POST", "/api/v2/alerts", b"[" * 100_000 + b"]" * 100_000)

    assert status == 400, body
    assert body["error"]["code"] == "INVALID_JSON"
