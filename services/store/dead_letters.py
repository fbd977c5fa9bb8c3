"""Messages that failed every delivery attempt, kept for inspection and replay."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Key

from services.clock import iso
from services.store import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_KEEP = timedelta(days=14)


class DeadLetterRepository(Protocol):
    def save(
        self, topic: str, message_id: str, message: dict[str, Any], reason: str, now: datetime
    ) -> None: ...
    def list(self, topic: str, limit: int = 50) -> list[dict[str, Any]]: ...


class DynamoDeadLetterRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def save(
        self, topic: str, message_id: str, message: dict[str, Any], reason: str, now: datetime
    ) -> None:
        self._table.put_item(
            Item={
                **keys.dead_letter(topic, message_id),
                "entity": "dead_letter",
                "topic": topic,
                "message": json.dumps(message),
                "reason": reason[:1000],
                "failed_at": iso(now),
                "expires_at": int((now + _KEEP).timestamp()),
            }
        )

    def list(self, topic: str, limit: int = 50) -> list[dict[str, Any]]:
        pk = keys.dead_letter(topic, "")["PK"]
        response = self._table.query(KeyConditionExpression=Key("PK").eq(pk), Limit=limit)
        return [
            {
                "message_id": str(i["SK"]),
                "message": json.loads(str(i["message"])),
                "reason": str(i["reason"]),
                "failed_at": str(i["failed_at"]),
            }
            for i in response["Items"]
        ]
