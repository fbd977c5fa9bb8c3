"""Publishing to the analysis topic (SNS in AWS, the local topic in the embedded stack), and
reading its messages back out of the events SNS hands the analysis function."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.utilities.data_classes import SNSEvent

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient


class MalformedSnsEventError(ValueError):
    """An event that is not an SNS notification of JSON objects: retrying cannot fix it."""


class PoisonMessageError(ValueError):
    """A message without a list of article keys: retrying cannot fix it."""


class Publisher(Protocol):
    def publish(self, message: dict[str, Any]) -> str:
        """Send one message; returns its message ID."""
        ...


class SnsPublisher:
    """The AWS implementation: one SNS Publish per message (SNS fans out to the Lambda)."""

    def __init__(self, client: SNSClient, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, message: dict[str, Any]) -> str:
        response = self._client.publish(TopicArn=self._topic_arn, Message=json.dumps(message))
        return str(response["MessageId"])


def messages_from_sns_event(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(message ID, decoded message) of every record of an SNS-to-Lambda event, all decoded
    before any is handed out, so a malformed record stops the event before work begins."""
    try:
        envelopes = [
            (record.sns.message_id, record.sns.message) for record in SNSEvent(event).records
        ]
    except KeyError as missing:
        raise MalformedSnsEventError(f"not an SNS event: no {missing.args[0]!r} field") from None
    except TypeError:
        raise MalformedSnsEventError(
            "not an SNS event: Records must be a list of records, each with an Sns object"
        ) from None
    return [_decoded(message_id, body) for message_id, body in envelopes]


def _decoded(message_id: object, body: object) -> tuple[str, dict[str, Any]]:
    if not isinstance(message_id, str) or not isinstance(body, str):
        raise MalformedSnsEventError("an SNS record's MessageId and Message must be strings")
    try:
        message = json.loads(body)
    except ValueError:
        raise MalformedSnsEventError(f"message {message_id} is not JSON") from None
    if not isinstance(message, dict):
        raise MalformedSnsEventError(f"message {message_id} is not a JSON object")
    return message_id, message


def article_key_batches(event: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """(message ID, article keys) of every message of an analysis event."""
    for message_id, message in messages_from_sns_event(event):
        keys = message.get("article_keys")
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise PoisonMessageError(f"message {message_id} has no list of article_keys")
        yield message_id, keys
