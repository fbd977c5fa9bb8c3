"""The sanitiser and the structured logger: nothing secret reaches a log line."""

from __future__ import annotations

import json

import pytest

from services.observability import (
    LOG_BUFFER,
    REDACTED,
    correlation_id_from,
    get_logger,
    mask_email,
    sanitize,
)
from tests.unit.support.logs import buffered_logger

pytestmark = pytest.mark.unit


def test_sanitize_drops_secrets_by_key_and_masks_emails() -> None:
    record = {
        "message": "sent link to jane.doe@example.com",
        "headers": {"Authorization": "Bearer abc.def", "x-correlation-id": "c1"},
        "token": "t0ps3cret",
        "nested": [{"api_key": "k"}, {"password": "p"}],
        "count": 3,
    }
    clean = sanitize(record)
    assert clean["message"] == "sent link to j***@example.com"
    assert clean["headers"] == {"Authorization": REDACTED, "x-correlation-id": "c1"}
    assert clean["token"] == REDACTED
    assert clean["nested"] == [{"api_key": REDACTED}, {"password": REDACTED}]
    assert clean["count"] == 3


def test_sanitize_scrubs_tokens_inside_free_text() -> None:
    text = "GET /tiingo/news?tickers=aapl&token=abc123 with Bearer eyJhbGciOi.x.y"
    clean = sanitize(text)
    assert "abc123" not in clean
    assert "eyJhbGciOi" not in clean
    assert "tickers=aapl" in clean


def test_mask_email_keeps_domain() -> None:
    assert mask_email("a@b.io and bob@corp.example.org") == "a***@b.io and b***@corp.example.org"


def test_correlation_id_is_echoed_when_valid_and_generated_otherwise() -> None:
    assert correlation_id_from({"X-Correlation-ID": "req-42"}) == "req-42"
    generated = correlation_id_from({"x-correlation-id": "bad value with spaces\n"})
    assert generated != "bad value with spaces\n" and len(generated) == 36
    assert correlation_id_from(None) != correlation_id_from(None)


def test_logger_writes_sanitised_json_with_correlation_id() -> None:
    # Given a logger writing to a buffer, When a secret and an e-mail are logged,
    # Then the JSON line has the correlation ID and neither secret nor address.
    logger, stream = buffered_logger("unit-test")
    logger.set_correlation_id("corr-1")
    logger.info("magic link for jane@example.com", extra={"token": "s3cr3t-token"})
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["correlation_id"] == "corr-1"
    assert line["message"] == "magic link for j***@example.com"
    assert line["token"] == REDACTED
    assert "s3cr3t-token" not in stream.getvalue()


def test_the_log_tail_keeps_each_record_as_its_json_line() -> None:
    # Given a record whose extra is an object JSON cannot hold (a store's exception)
    logger = get_logger("unit-test-buffer")
    failure = RuntimeError("the table is unreachable")

    # When it is logged
    logger.warning("store failed", extra={"error": failure})

    # Then the tail holds it as the line says it, ready for the log route's JSON answer
    kept = [r for r in LOG_BUFFER.snapshot() if r.get("service") == "unit-test-buffer"][-1]
    assert kept["error"] == "the table is unreachable"
    json.dumps(kept)
