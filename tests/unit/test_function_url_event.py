"""The local Function URL builds the same payload 2.0 event Lambda does."""

from __future__ import annotations

import base64

import pytest

from services.local.function_url import build_event

pytestmark = pytest.mark.unit


def test_event_carries_path_query_headers_and_json_body() -> None:
    event = build_event(
        method="POST",
        raw_path="/api/v2/configurations?a=1&b=2&a=3",
        headers={"content-type": "application/json", "user-agent": "t"},
        body=b'{"name": "x"}',
        source_ip="127.0.0.1",
        domain="127.0.0.1:8080",
    )
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/api/v2/configurations"
    assert event["rawQueryString"] == "a=1&b=2&a=3"
    assert event["queryStringParameters"] == {"a": "1,3", "b": "2"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert event["body"] == '{"name": "x"}'
    assert event["isBase64Encoded"] is False


def test_binary_body_is_base64_encoded() -> None:
    event = build_event(
        method="PUT",
        raw_path="/upload",
        headers={"content-type": "application/octet-stream"},
        body=b"\x00\x01",
        source_ip="127.0.0.1",
        domain="d",
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\x01"
    assert "queryStringParameters" not in event
