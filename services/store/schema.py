"""The single table, defined once.

`ensure_table`, the tests and the Terraform check all read this module, so the schema
cannot drift between the code, the local stack and AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PARTITION_KEY = "PK"
SORT_KEY = "SK"
TTL_ATTRIBUTE = "expires_at"


@dataclass(frozen=True, slots=True)
class GlobalIndex:
    """A GSI: which attribute partitions it and which one orders it."""

    name: str
    partition_key: str
    sort_key: str


# Sparse indexes: only items that carry the partition attribute appear in them.
BY_SENTIMENT = GlobalIndex("by_sentiment", "sentiment", "timestamp")
BY_STATUS = GlobalIndex("by_status", "status", "timestamp")
BY_TAG = GlobalIndex("by_tag", "tag", "timestamp")
GLOBAL_INDEXES: tuple[GlobalIndex, ...] = (BY_SENTIMENT, BY_STATUS, BY_TAG)


def attribute_names() -> list[str]:
    """Every key attribute of the table and its indexes (all strings)."""
    names = [PARTITION_KEY, SORT_KEY]
    for index in GLOBAL_INDEXES:
        for name in (index.partition_key, index.sort_key):
            if name not in names:
                names.append(name)
    return names


def create_table_request(table_name: str) -> dict[str, Any]:
    """The CreateTable request for the single table: on-demand, all GSIs projecting ALL."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in attribute_names()
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in GLOBAL_INDEXES
        ],
    }


def schema_summary() -> dict[str, Any]:
    """A plain description of the schema, for comparison with other definitions (Terraform)."""
    return {
        "hash_key": PARTITION_KEY,
        "range_key": SORT_KEY,
        "ttl_attribute": TTL_ATTRIBUTE,
        "attributes": {name: "S" for name in attribute_names()},
        "global_secondary_indexes": {
            index.name: {"hash_key": index.partition_key, "range_key": index.sort_key}
            for index in GLOBAL_INDEXES
        },
    }
