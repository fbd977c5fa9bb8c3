"""Summaries of ingestion cycles, newest first, kept a week."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Key

from services.clock import parse_iso
from services.store import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_KEEP = timedelta(days=7)


class IngestionRunRepository(Protocol):
    def save(self, summary: dict[str, Any]) -> None: ...
    def latest(self, limit: int = 10) -> list[dict[str, Any]]: ...


class DynamoIngestionRunRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def save(self, summary: dict[str, Any]) -> None:
        started = str(summary["started_at"])
        self._table.put_item(
            Item={
                **keys.ingestion_run(started),
                "entity": "ingestion_run",
                # Stored as JSON text: the summary's nested counts need no Decimal handling.
                "summary": json.dumps(summary),
                "expires_at": int((parse_iso(started) + _KEEP).timestamp()),
            }
        )

    def latest(self, limit: int = 10) -> list[dict[str, Any]]:
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(keys.INGESTION_RUNS),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [json.loads(str(item["summary"])) for item in response["Items"]]
