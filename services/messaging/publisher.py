"""Publishing to the analysis topic (SNS in AWS, the local topic in the embedded stack)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient


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
    """(message ID, decoded message) of every record of an SNS-to-Lambda event."""
    decoded = []
    for record in event.get("Records", []):
        sns = record["Sns"]
        decoded.append((str(sns["MessageId"]), json.loads(sns["Message"])))
    return decoded
