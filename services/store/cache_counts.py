"""Each function instance's cache counters, shared through the table for `/api/v2/ops/caches`.

    CACHECOUNTS | {instance}   one instance's counters per cache layer (JSON), overwritten

An instance's caches live in its own memory, so with several execution environments no one
of them can report the others'. Each overwrites its one item now and then (a retried write
never counts twice: the counters are cumulative, not increments) with a TTL, so an
environment that was shut down disappears by itself; readers also skip items older than the
period they ask for, since DynamoDB deletes expired items only eventually. One partition holds
every instance: a handful of small items, read with one query.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Attr, Key

from services.clock import epoch_seconds, iso, parse_iso
from services.store.pages import every_item
from services.store.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

CACHE_COUNTS = "CACHECOUNTS"


@dataclass(frozen=True, slots=True)
class PublishedCaches:
    """What one instance last published: its layers' counters at `published_at`."""

    instance: str
    pid: int | None
    published_at: datetime
    layers: dict[str, dict[str, Any]]


class CacheCountsStore(Protocol):
    def publish(self, counts: PublishedCaches) -> None: ...
    def published_since(self, since: datetime) -> list[PublishedCaches]: ...


class DynamoCacheCounts:
    def __init__(self, table: Table, *, keep: timedelta = timedelta(minutes=10)) -> None:
        self._table = table
        self._keep = keep

    def publish(self, counts: PublishedCaches) -> None:
        self._table.put_item(
            Item={
                PARTITION_KEY: CACHE_COUNTS,
                SORT_KEY: counts.instance,
                "entity": "cache_counts",
                "instance": counts.instance,
                **({"pid": counts.pid} if counts.pid is not None else {}),
                "published_at": iso(counts.published_at),
                "layers": json.dumps(counts.layers, separators=(",", ":")),
                TTL_ATTRIBUTE: epoch_seconds(counts.published_at + self._keep),
            }
        )

    def published_since(self, since: datetime) -> list[PublishedCaches]:
        """Every instance's item published at or after `since` (strongly consistent, so the
        reader's own item of a moment ago is among them)."""
        found: list[PublishedCaches] = []
        query: dict[str, Any] = {
            "KeyConditionExpression": Key(PARTITION_KEY).eq(CACHE_COUNTS),
            "FilterExpression": Attr("published_at").gte(iso(since)),
            "ConsistentRead": True,
        }
        for item in every_item(self._table.query, query):
            pid = item.get("pid")
            layers = json.loads(str(item.get("layers") or "{}"))
            found.append(
                PublishedCaches(
                    instance=str(item["instance"]),
                    pid=int(str(pid)) if pid is not None else None,
                    published_at=parse_iso(str(item["published_at"])),
                    layers=_layers(layers),
                )
            )
        return found


def _layers(raw: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(name): dict(layer) for name, layer in raw.items() if isinstance(layer, Mapping)}
