"""The Function URL adapter: the payload 2.0 event made of a request, the HTTP answer made of
the function's result."""

from __future__ import annotations

import base64

import pytest

from services.local.function_url_event import build_event, http_answer

pytestmark = pytest.mark.unit


def event_for(body: bytes, content_type: str) -> dict[str, object]:
    return build_event(
        method="POST",
        raw_path="/api/v2/alerts",
        headers={"content-type": content_type},
        body=body,
        source_ip="127.0.0.1",
        domain="local",
    )


def test_a_json_body_in_utf8_reaches_the_function_as_text() -> None:
    event = event_for('{"name": "é"}'.encode(), "application/json; charset=utf-8")

    assert event["isBase64Encoded"] is False
    assert event["body"] == '{"name": "é"}'


def test_a_json_body_that_is_not_utf8_reaches_the_function_base64_encoded() -> None:
    # Given bytes no UTF-8 decoder accepts, under a textual content type
    raw = b'{"name": "\xff\xfe"}'

    # When the adapter builds the event
    event = event_for(raw, "application/json")

    # Then the function gets them exactly, flagged as base64, instead of the request failing
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(str(event["body"])) == raw


def test_an_empty_body_is_absent_and_not_base64() -> None:
    event = event_for(b"", "application/octet-stream")

    assert "body" not in event and event["isBase64Encoded"] is False


def test_the_answer_joins_multi_value_headers_and_decodes_a_base64_body() -> None:
    answer = http_answer(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "image/png"},
            "multiValueHeaders": {"Vary": ["Origin", "Accept"]},
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
            "cookies": ["a=1"],
        }
    )

    assert answer.status == 201
    assert answer.headers == {"content-type": "image/png", "vary": "Origin, Accept"}
    assert answer.payload == b"\x89PNG" and answer.cookies == ["a=1"]
