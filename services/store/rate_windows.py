"""Rate-limit counts shared by the function instances: one item per instance and window.

`RATEWINDOW#{window_start} | {instance}#{part}` holds an instance's whole count map of that
window (`counts`: {key: requests}). An exchange overwrites it, so a retried write never counts
twice, and reads the other instances' items of the window with one query, whatever the number
of callers: the cost of sharing grows with the bytes of the map, not with one write per
caller. Maps larger than `max_keys_per_item` are split into parts, far below DynamoDB's 400 KB
item limit.

The map is stored as one JSON string rather than a DynamoDB map: nobody queries a single
count, and boto3 converts a map entry by entry (measured: ~50 ms for 2,000 entries on the
request that exchanges, against well under a millisecond for the string). The query leaves
out the reader's own items on the server (a filter on `instance`), so they are not sent back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, Key

from services.store import keys
from services.store.pages import every_item
from services.store.schema import PARTITION_KEY, TTL_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# About 25 bytes per entry (a key of up to 20 characters and its count): ~100 KB a part.
MAX_KEYS_PER_ITEM = 4000


class DynamoRateWindows:
    def __init__(self, table: Table, *, max_keys_per_item: int = MAX_KEYS_PER_ITEM) -> None:
        self._table = table
        self._max_keys = max_keys_per_item

    def publish(
        self, window_start: int, instance: str, counts: Mapping[str, int], expires_at: int
    ) -> None:
        entries = list(counts.items())
        # Keys only join a window's map, never leave it, so a part once written is always
        # rewritten by the next publish: no stale part survives with old counts.
        parts = [entries[i : i + self._max_keys] for i in range(0, len(entries), self._max_keys)]
        items: list[dict[str, Any]] = [
            {
                **keys.rate_window(window_start, instance, number),
                "instance": instance,
                "counts": json.dumps(dict(part), separators=(",", ":")),
                TTL_ATTRIBUTE: expires_at,
            }
            for number, part in enumerate(parts or [[]])
        ]
        if len(items) == 1:
            self._table.put_item(Item=items[0])
            return
        with self._table.batch_writer() as batch:
            for item in items:
                batch.put_item(Item=item)

    def others(self, window_start: int, instance: str) -> dict[str, int]:
        """Every other instance's counts of the window, summed per key."""
        totals: dict[str, int] = {}
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key(PARTITION_KEY).eq(keys.rate_window_pk(window_start)),
            "FilterExpression": Attr("instance").ne(instance),
            "ProjectionExpression": "#counts",
            "ExpressionAttributeNames": {"#counts": "counts"},
        }
        for item in every_item(self._table.query, kwargs):
            for key, count in json.loads(str(item.get("counts") or "{}")).items():
                totals[key] = totals.get(key, 0) + int(count)
        return totals
