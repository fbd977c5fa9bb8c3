"""Reading the analysis topic's messages out of SNS-to-Lambda events: every record decoded, a
message without a list of article keys refused as poison, and an event that is not SNS (or a
message that is not a JSON object) refused with one clear error before any message is used."""

from __future__ import annotations

import copy
import json
import traceback
from typing import Any

import pytest

from services.local.bus import sns_event
from services.messaging.publisher import (
    MalformedSnsEventError,
    PoisonMessageError,
    article_key_batches,
    messages_from_sns_event,
)

pytestmark = pytest.mark.unit

TOPIC = "arn:aws:sns:us-east-1:123456789012:analysis"


def event_of(*messages: tuple[str, Any]) -> dict[str, Any]:
    """One SNS event whose records carry `messages` (ID, message) in order."""
    records = [
        sns_event(TOPIC, message_id, message)["Records"][0] for message_id, message in messages
    ]
    return {"Records": records}


def with_body(event: dict[str, Any], body: Any) -> dict[str, Any]:
    """`event` with its first record's raw Message replaced."""
    changed = copy.deepcopy(event)
    changed["Records"][0]["Sns"]["Message"] = body
    return changed


GOOD = event_of(("m-1", {"article_keys": ["a", "b"]}))


def test_every_record_is_decoded_with_its_message_id() -> None:
    event = event_of(("m-1", {"article_keys": ["a"]}), ("m-2", {"article_keys": []}))

    assert messages_from_sns_event(event) == [
        ("m-1", {"article_keys": ["a"]}),
        ("m-2", {"article_keys": []}),
    ]


def test_an_event_without_records_has_no_messages() -> None:
    assert messages_from_sns_event({"Records": []}) == []


def test_batches_are_the_article_keys_of_each_message() -> None:
    event = event_of(("m-1", {"article_keys": ["a", "b"]}), ("m-2", {"article_keys": ["c"]}))

    assert list(article_key_batches(event)) == [("m-1", ["a", "b"]), ("m-2", ["c"])]


@pytest.mark.parametrize(
    "message",
    [{}, {"article_keys": "a"}, {"article_keys": None}, {"article_keys": ["a", 7]}],
)
def test_a_message_without_a_list_of_keys_is_poison(message: dict[str, Any]) -> None:
    event = event_of(("m-1", {"article_keys": ["a"]}), ("m-2", message))
    batches = article_key_batches(event)

    assert next(batches) == ("m-1", ["a"])
    with pytest.raises(PoisonMessageError, match="message m-2 has no list of article_keys"):
        next(batches)


MALFORMED: list[tuple[dict[str, Any], str]] = [
    ({}, "no 'Records' field"),
    ({"Records": None}, "Records must be a list"),
    ({"Records": ["not a record"]}, "Records must be a list"),
    ({"Records": [{"EventSource": "aws:sns"}]}, "no 'Sns' field"),
    ({"Records": [{"Sns": "text"}]}, "Records must be a list"),
    ({"Records": [{"Sns": {"MessageId": "m-1"}}]}, "no 'Message' field"),
    ({"Records": [{"Sns": {"MessageId": 1, "Message": "{}"}}]}, "must be strings"),
    (with_body(GOOD, None), "must be strings"),
    (with_body(GOOD, "not json"), "message m-1 is not JSON"),
    (with_body(GOOD, json.dumps(["a"])), "message m-1 is not a JSON object"),
]


@pytest.mark.parametrize(("event", "reason"), MALFORMED)
def test_a_malformed_event_is_one_clear_value_error(event: dict[str, Any], reason: str) -> None:
    with pytest.raises(MalformedSnsEventError, match=reason) as refused:
        messages_from_sns_event(event)

    assert isinstance(refused.value, ValueError)
    # The traceback a log shows: this error alone, no lookup error from inside the decoding
    shown = "".join(traceback.format_exception(refused.value))
    assert "KeyError" not in shown and "TypeError" not in shown


def test_a_malformed_record_stops_the_event_before_any_batch() -> None:
    event = event_of(("m-1", {"article_keys": ["a"]}), ("m-2", {"article_keys": ["b"]}))
    event["Records"][1]["Sns"]["Message"] = "not json"

    with pytest.raises(MalformedSnsEventError, match="message m-2 is not JSON"):
        next(article_key_batches(event))
