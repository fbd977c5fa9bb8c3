"""Conversions between table items and Python values shared by the repositories."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from services.backoff import jittered_pause
from services.clock import epoch_seconds, iso, parse_iso
from services.store.schema import TTL_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

Item = dict[str, Any]
# DynamoDB allows 100 operations per transaction.
MAX_TRANSACTION_ITEMS = 100


def opt_iso(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def opt_time(value: Any) -> datetime | None:
    return parse_iso(str(value)) if value else None


def to_decimal(value: float) -> Decimal:
    # boto3 rejects floats; going through str keeps the decimal representation short.
    return Decimal(str(value))


def opt_float(value: Any) -> float | None:
    return float(value) if value is not None else None


def is_live(item: Mapping[str, Any], now: datetime) -> bool:
    """False for an item whose TTL has passed: DynamoDB deletes expired items lazily."""
    expires = item.get(TTL_ATTRIBUTE)
    return expires is None or int(expires) > epoch_seconds(now)


def without_nones(item: Mapping[str, Any]) -> Item:
    """Drop absent attributes so sparse indexes stay sparse."""
    return {name: value for name, value in item.items() if value is not None}


def is_condition_failure(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons", [])
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return False


def cancellation_codes(error: ClientError) -> list[str]:
    """Per-operation reasons of a cancelled transaction ("None" for those that passed)."""
    return [str(r.get("Code", "None")) for r in error.response.get("CancellationReasons", [])]


def transact_write(table: Table, operations: list[dict[str, Any]]) -> None:
    """TransactWriteItems with plain Python values, like the Table resource's own methods.

    The resource's client serialises Item, Key and ExpressionAttributeValues itself; this
    only adds the table name to every operation.
    """
    typed: list[Any] = []
    for operation in operations:
        ((kind, body),) = operation.items()
        typed.append({kind: {"TableName": table.name, **body}})
    table.meta.client.transact_write_items(TransactItems=typed)


def conflict_backoff(attempt: int = 0) -> None:
    """A short random pause before retrying a transaction another writer got in the way of."""
    jittered_pause(attempt, low_s=0.005, high_s=0.05)
