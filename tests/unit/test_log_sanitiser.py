"""The log sanitiser: linear on hostile input, capped, and applied to every logger's records
(plain `logging` loggers as well as the functions' Powertools loggers)."""

from __future__ import annotations

import importlib
import io
import json
import logging
from collections.abc import Iterator

import pytest

import services.functions
from services.observability import (
    MAX_LOGGED_ITEMS,
    MAX_LOGGED_TEXT,
    REDACTED,
    install_log_sanitiser,
    mask_email,
    sanitize,
    sanitize_text,
)
from tests.unit.support.logs import buffered_logger

pytestmark = pytest.mark.unit

# Each took over a second with the old e-mail pattern (its work grew with the square of the
# length); together they would far exceed the guard below.
ADVERSARIAL = {
    "letters and dots": "/api/v2/tickers/" + "a." * 16384,
    "an at sign before dotted labels": "/search?q=x@" + "b." * 16384,
    "dashes and plus signs": "/" + "-._%+" * 6554,
}


@pytest.fixture
def sanitised_records() -> Iterator[None]:
    """The sanitiser installed for one test, the process's previous record factory after."""
    previous = logging.getLogRecordFactory()
    install_log_sanitiser()
    yield
    logging.setLogRecordFactory(previous)


def _plain_logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


@pytest.mark.timeout(2)
@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_sanitize_text_finishes_on_32_kb_of_adversarial_input(text: str) -> None:
    # Given 32 KB built to make a backtracking pattern retry every position,
    # When it is sanitised whole (no cap), Then it completes well within the guard.
    assert len(text) >= 32 * 1024
    assert sanitize_text(text + " jane@example.com").endswith(" j***@example.com")


def test_mask_email_masks_addresses_with_punctuation_and_odd_domains() -> None:
    assert mask_email("to -jane.doe+x@mail.example.co.uk.") == "to -***@mail.example.co.uk."
    assert mask_email("<bob@corp.example.org>") == "<b***@corp.example.org>"
    assert mask_email("already j***@example.com") == "already j***@example.com"


def test_sanitize_text_masks_token_query_parameters_in_urls() -> None:
    url = (
        "https://app.example.com/?magic_token=mt-123&tickers=AAPL"
        "&code=c-456&state=s-789#access_token=at-0"
    )
    clean = sanitize_text(f"GET {url} done")
    for secret in ("mt-123", "c-456", "s-789", "at-0"):
        assert secret not in clean
    assert "magic_token=[REDACTED]" in clean and "tickers=AAPL" in clean
    assert clean.endswith(" done")


def test_sanitize_caps_a_long_value_with_a_marker() -> None:
    # Given a request whose path is 40 000 characters long
    record = {"path": "/api/v2/" + "a" * 40_000, "tickers": [f"T{n}" for n in range(500)]}

    # When it is sanitised for a log line
    clean = sanitize(record)

    # Then the line carries a bounded part of it, and says how much was left out
    assert len(clean["path"]) < MAX_LOGGED_TEXT + 40
    assert clean["path"].endswith(f"...[truncated {40_008 - MAX_LOGGED_TEXT} chars]")
    assert len(clean["tickers"]) == MAX_LOGGED_ITEMS + 1
    assert clean["tickers"][-1] == f"...[truncated {500 - MAX_LOGGED_ITEMS} items]"


def test_sanitize_masks_an_email_that_crosses_the_cap() -> None:
    text = "x" * (MAX_LOGGED_TEXT - 5) + " jane.doe@example.com" + "y" * 5000
    assert "jane.doe" not in sanitize(text)


def test_sanitize_bounds_nesting() -> None:
    nested: dict[str, object] = {"leaf": "jane@example.com"}
    for _ in range(50):
        nested = {"inner": nested}
    text = json.dumps(sanitize(nested))
    assert "nested deeper than" in text and "jane" not in text


@pytest.mark.usefixtures("sanitised_records")
def test_plain_logger_records_are_sanitised() -> None:
    # Given a plain logger, as the adapters and the OAuth client use
    logger, stream = _plain_logger("tests.sanitiser.plain")

    # When it logs an address, a bearer token and a sign-in link through its arguments
    logger.error(
        "token endpoint answered %s for %s with %s",
        401,
        "jane.doe@example.com",
        "Bearer eyJhbGciOi.payload.sig",
    )
    logger.info("opened https://app.example.com/?magic_token=mt-secret&x=1")

    # Then the written lines carry none of them
    written = stream.getvalue()
    assert "j***@example.com" in written and "jane.doe" not in written
    assert f"Bearer {REDACTED}" in written and "eyJhbGciOi" not in written
    assert "magic_token=[REDACTED]" in written and "mt-secret" not in written


@pytest.mark.usefixtures("sanitised_records")
def test_plain_logger_exception_text_is_sanitised() -> None:
    logger, stream = _plain_logger("tests.sanitiser.exception")
    try:
        raise ValueError("no account for jane.doe@example.com")
    except ValueError:
        logger.exception("lookup failed")
    assert "ValueError: no account for j***@example.com" in stream.getvalue()
    assert "jane.doe" not in stream.getvalue()


@pytest.mark.usefixtures("sanitised_records")
def test_plain_logger_records_seen_by_any_handler_are_sanitised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A handler added after the sanitiser was installed (here pytest's) sees clean records.
    with caplog.at_level(logging.INFO, logger="tests.sanitiser.caplog"):
        logging.getLogger("tests.sanitiser.caplog").info(
            "link %s", "https://x.example/?token=t-secret"
        )
    assert caplog.records[-1].getMessage() == f"link https://x.example/?token={REDACTED}"


@pytest.mark.usefixtures("sanitised_records")
def test_plain_logger_caps_a_long_message() -> None:
    logger, stream = _plain_logger("tests.sanitiser.long")
    logger.warning("unknown path %s", "/" + "a" * 100_000)
    line = stream.getvalue()
    assert len(line) < MAX_LOGGED_TEXT + 100 and "...[truncated " in line


@pytest.mark.usefixtures("sanitised_records")
def test_plain_logger_with_arguments_that_do_not_fit_still_logs_safely() -> None:
    logger, stream = _plain_logger("tests.sanitiser.bad-format")
    logger.info("two %s %s", "jane@example.com")
    assert "arguments did not fit" in stream.getvalue()
    assert "jane@example.com" not in stream.getvalue()


@pytest.mark.usefixtures("sanitised_records")
def test_powertools_logger_masks_a_sign_in_link_and_its_arguments() -> None:
    logger, stream = buffered_logger("unit-test-sanitiser")

    logger.info("sent %s to %s", "/?magic_token=mt-secret", "jane@example.com")
    logger.info({"event": "link", "url": "https://x.example/?magic_token=mt-2"})

    first, second = (json.loads(line) for line in stream.getvalue().strip().splitlines()[-2:])
    assert first["message"] == f"sent /?magic_token={REDACTED} to j***@example.com"
    assert second["message"]["url"] == f"https://x.example/?magic_token={REDACTED}"


def test_installing_twice_wraps_the_factory_once(sanitised_records: None) -> None:
    installed = logging.getLogRecordFactory()
    install_log_sanitiser()
    assert logging.getLogRecordFactory() is installed


def test_the_functions_package_installs_the_sanitiser_on_import() -> None:
    # Given a process whose records are not sanitised
    previous = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    try:
        # When the Lambda entry points' package is (re)loaded, as a runtime loads it
        importlib.reload(services.functions)

        # Then records made from then on are sanitised
        record = logging.getLogger("tests.sanitiser.functions").makeRecord(
            "x", logging.INFO, __file__, 1, "mail %s", ("jane@example.com",), None
        )
        assert record.getMessage() == "mail j***@example.com"
    finally:
        logging.setLogRecordFactory(previous)
