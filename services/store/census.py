"""Bounded counts of the single table, for the operator's views of a table of any size.

`table_census` reads at most `max_items` items: a parallel scan's segments one after the
other (each segment is a random slice of the key space, DynamoDB hashes partition keys), keys
and index attributes only. When the budget ends first the counts of the segments read in
full, scaled by the share of segments read, estimate the whole; DynamoDB's own item counts
(DescribeTable: free, refreshed about every six hours) are reported next to them.

`count_status` counts the articles of one status on the `by_status` index with COUNT
queries, at most `max_pages` pages (each evaluates up to `COUNT_PAGE_ITEMS` items or 1 MB,
whichever comes first): exact for a pipeline's usual backlog, a lower bound flagged
`complete=False` beyond it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Attr, Key

from services.clock import epoch_seconds
from services.store.keys import entity_of, health_probe
from services.store.pages import pages
from services.store.schema import (
    BY_STATUS,
    GLOBAL_INDEXES,
    PARTITION_KEY,
    SORT_KEY,
    TTL_ATTRIBUTE,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# Segments of the sampling scan: a table of up to `segments * max_items` items is estimated
# from at least one whole segment (a sixteenth of the keys).
SAMPLE_SEGMENTS = 16
SCAN_PAGE_ITEMS = 1_000
COUNT_PAGE_ITEMS = 5_000
# Values of a GSI's partition attribute listed, most items first (by_tag has one per ticker).
TOP_VALUES = 12


@dataclass(frozen=True, slots=True)
class BoundedCount:
    count: int
    # False: the page limit was reached first, `count` is a lower bound.
    complete: bool


def count_status(
    table: Any, status: str, *, now: datetime, max_pages: int, page_items: int | None = None
) -> BoundedCount:
    """Articles in `status` (expired ones still in the table left out), at most `max_pages`
    COUNT pages read."""
    request: dict[str, Any] = {
        "Limit": page_items or COUNT_PAGE_ITEMS,
        "IndexName": BY_STATUS.name,
        "KeyConditionExpression": Key(BY_STATUS.partition_key).eq(status),
        "FilterExpression": Attr(TTL_ATTRIBUTE).not_exists()
        | Attr(TTL_ATTRIBUTE).gt(epoch_seconds(now)),
        "Select": "COUNT",
    }
    total, complete = 0, False
    for page in itertools.islice(pages(table.query, request), max(1, max_pages)):
        total += int(page["Count"])
        complete = "LastEvaluatedKey" not in page
    return BoundedCount(total, complete=complete)


@dataclass
class _Sample:
    """What a budgeted scan read: items of whole segments, and of the one it stopped in."""

    segments: int
    whole: list[dict[str, Any]] = field(default_factory=list)
    partial: list[dict[str, Any]] = field(default_factory=list)
    segments_read: int = 0

    @property
    def complete(self) -> bool:
        return self.segments_read == self.segments


def _sample_scan(table: Any, *, max_items: int, segments: int) -> _Sample:
    names = [PARTITION_KEY, SORT_KEY]
    for index in GLOBAL_INDEXES:
        names += [n for n in (index.partition_key, index.sort_key) if n not in names]
    placeholders = {f"#a{i}": name for i, name in enumerate(names)}
    sample = _Sample(segments)
    read = 0
    for segment in range(segments):
        request: dict[str, Any] = {
            "ProjectionExpression": ", ".join(placeholders),
            "ExpressionAttributeNames": placeholders,
            "Segment": segment,
            "TotalSegments": segments,
        }
        finished = False
        for page in pages(table.scan, request, limit=max_items - read, page_size=SCAN_PAGE_ITEMS):
            items = page.get("Items", [])
            read += len(items)
            sample.partial.extend(items)
            finished = "LastEvaluatedKey" not in page
        if not finished:
            return sample  # the budget ran out inside this segment
        sample.whole.extend(sample.partial)
        sample.partial = []
        sample.segments_read += 1
    return sample


def _described_counts(table: Any) -> dict[str, Any]:
    """DynamoDB's own item counts of the table and its indexes (approximate: refreshed about
    every six hours in AWS); empty when they cannot be read."""
    try:
        description = table.meta.client.describe_table(TableName=table.name)["Table"]
    except Exception:  # an operator's view does without them
        return {}
    return {
        "items": int(description.get("ItemCount", 0)),
        "size_bytes": int(description.get("TableSizeBytes", 0)),
        "indexes": {
            index["IndexName"]: int(index.get("ItemCount", 0))
            for index in description.get("GlobalSecondaryIndexes", [])
        },
    }


def table_census(table: Any, *, max_items: int, segments: int = SAMPLE_SEGMENTS) -> dict[str, Any]:
    """Items per entity and per GSI: exact when the whole table fits the budget, estimated
    from whole segments when it does not (`estimated`), and only what was read when not even
    one segment fits (`truncated` without `estimated`: every figure is a lower bound)."""
    sample = _sample_scan(table, max_items=max_items, segments=segments)
    if sample.complete or not sample.segments_read:
        basis, scale = sample.whole + sample.partial, 1.0
    else:
        basis, scale = sample.whole, segments / sample.segments_read
    entities = Counter(entity_of(str(i[PARTITION_KEY]), str(i[SORT_KEY])) for i in basis)
    indexes: dict[str, Any] = {}
    for index in GLOBAL_INDEXES:
        # An item is in a (sparse) GSI when it carries both of the index's key attributes.
        values = Counter(
            str(i[index.partition_key])
            for i in basis
            if index.partition_key in i and index.sort_key in i
        )
        indexes[index.name] = {
            "partition_key": index.partition_key,
            "sort_key": index.sort_key,
            "items": round(sum(values.values()) * scale),
            "distinct_values": len(values),
            "top_values": {k: round(n * scale) for k, n in values.most_common(TOP_VALUES)},
        }
    scaled = {name: round(n * scale) for name, n in entities.items()}
    return {
        "table": str(getattr(table, "name", "")),
        "items": round(len(basis) * scale),
        "entities": dict(sorted(scaled.items(), key=lambda e: (-e[1], e[0]))),
        "indexes": indexes,
        "truncated": not sample.complete,
        "estimated": not sample.complete and sample.segments_read > 0,
        "scanned_items": len(sample.whole) + len(sample.partial),
        "sampled_fraction": round(sample.segments_read / segments, 4),
        "max_items": max_items,
        "described": _described_counts(table),
    }


class TableCensus(Protocol):
    """What the operator's views and `/health` read of the store as a whole."""

    def probe(self) -> None:
        """One cheap read; raises when the store cannot be reached."""
        ...

    def count_status(self, status: str, *, now: datetime, max_pages: int) -> BoundedCount: ...

    def census(self, *, max_items: int) -> dict[str, Any]: ...


class DynamoTableCensus:
    def __init__(self, table: Table) -> None:
        self._table = table

    def probe(self) -> None:
        self._table.get_item(Key=health_probe())

    def count_status(self, status: str, *, now: datetime, max_pages: int) -> BoundedCount:
        return count_status(self._table, status, now=now, max_pages=max_pages)

    def census(self, *, max_items: int) -> dict[str, Any]:
        return table_census(self._table, max_items=max_items)
