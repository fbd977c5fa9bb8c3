"""Metrics in the table: the API instances' request minutes and the metrics function's
snapshots.

    APIMETRICS | {minute}#{instance}   one API instance's requests in one minute (2 days)
    METRICS    | {computed_at}         one run of the metrics function (kept a week)

Both are stored as JSON text: nested counts need no Decimal handling, and nothing queries
inside them. An API minute whose text would not fit in an item is refused before any write
(`ApiMinuteTooLargeError`), so the writer drops it instead of retrying a write that cannot
succeed; the writer caps its keys, so this is a last line, not the limit itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Key

from services.clock import epoch_seconds, iso, parse_iso
from services.store.pages import every_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

API_MINUTES = "APIMETRICS"
SNAPSHOTS = "METRICS"
# DynamoDB refuses items over 400 KB; the JSON text gets most of it, the keys the rest.
MAX_MINUTE_BYTES = 380_000


class ApiMinuteTooLargeError(ValueError):
    """An API minute that no write could store: too large for one item."""


@dataclass(frozen=True, slots=True)
class ApiMinute:
    minute: datetime
    instance: str
    stats: dict[str, Any]
    caches: dict[str, Any]


class MetricsStore(Protocol):
    def put_api_minute(
        self,
        minute: datetime,
        instance: str,
        stats: Mapping[str, Any],
        caches: Mapping[str, Any],
    ) -> None: ...
    def api_minutes(self, since: datetime, until: datetime) -> list[ApiMinute]: ...
    def put_snapshot(self, snapshot: Mapping[str, Any], at: datetime) -> None: ...
    def latest_snapshot(self) -> dict[str, Any] | None: ...
    def snapshots(self, since: datetime, limit: int = 120) -> list[dict[str, Any]]: ...


class DynamoMetricsStore:
    def __init__(
        self,
        table: Table,
        *,
        keep_minutes: timedelta = timedelta(days=2),
        keep_snapshots: timedelta = timedelta(days=7),
    ) -> None:
        self._table = table
        self._keep_minutes = keep_minutes
        self._keep_snapshots = keep_snapshots

    def put_api_minute(
        self,
        minute: datetime,
        instance: str,
        stats: Mapping[str, Any],
        caches: Mapping[str, Any],
    ) -> None:
        data = json.dumps({"stats": stats, "caches": caches})
        size = len(data.encode())
        if size > MAX_MINUTE_BYTES:
            raise ApiMinuteTooLargeError(
                f"the API minute {iso(minute)} of {instance} is {size} bytes; "
                f"at most {MAX_MINUTE_BYTES} fit in an item"
            )
        self._table.put_item(
            Item={
                "PK": API_MINUTES,
                "SK": f"{iso(minute)}#{instance}",
                "entity": "api_minute",
                "data": data,
                "expires_at": epoch_seconds(minute + self._keep_minutes),
            }
        )

    def api_minutes(self, since: datetime, until: datetime) -> list[ApiMinute]:
        found: list[ApiMinute] = []
        query: dict[str, Any] = {
            # `~` sorts after every instance id, so the last minute's items are included.
            "KeyConditionExpression": Key("PK").eq(API_MINUTES)
            & Key("SK").between(iso(since), f"{iso(until)}~"),
        }
        for item in every_item(self._table.query, query):
            minute_text, _, instance = str(item["SK"]).partition("#")
            data = json.loads(str(item["data"]))
            found.append(ApiMinute(parse_iso(minute_text), instance, data["stats"], data["caches"]))
        return found

    def put_snapshot(self, snapshot: Mapping[str, Any], at: datetime) -> None:
        self._table.put_item(
            Item={
                "PK": SNAPSHOTS,
                "SK": iso(at),
                "entity": "metrics_snapshot",
                "data": json.dumps(snapshot),
                "expires_at": epoch_seconds(at + self._keep_snapshots),
            }
        )

    def latest_snapshot(self) -> dict[str, Any] | None:
        page = self._table.query(
            KeyConditionExpression=Key("PK").eq(SNAPSHOTS), ScanIndexForward=False, Limit=1
        )
        items = page["Items"]
        return json.loads(str(items[0]["data"])) if items else None

    def snapshots(self, since: datetime, limit: int = 120) -> list[dict[str, Any]]:
        """The snapshots since `since`, oldest first (for charts)."""
        page = self._table.query(
            KeyConditionExpression=Key("PK").eq(SNAPSHOTS) & Key("SK").gte(iso(since)),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [json.loads(str(item["data"])) for item in reversed(page["Items"])]
