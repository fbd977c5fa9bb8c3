"""Allowance counters: how much of an allowance one subject (a recipient, a network address,
a session) used in one period, counted exactly by every instance together.

One item per allowance, subject and period (`ALLOWANCE#{name}#{subject_hash}#{period} |
COUNTER`). A use is one atomic `ADD` conditional on the count staying within the limit, so
of many instances racing for the last unit exactly one gets it, and a refused use adds
nothing: a caller who keeps asking past the limit does not push the count further. The item
expires (TTL) some time after its period ends; nothing reads it after that.

The subject is never in the key, only its hash: the table holds no e-mail or network address
in clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from services.clock import epoch_seconds, iso
from services.store import keys
from services.store.items import is_condition_failure

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class AllowanceStore(Protocol):
    def take(
        self,
        name: str,
        subject_hash: str,
        period: str,
        *,
        limit: int,
        now: datetime,
        expires_at: datetime,
    ) -> int | None:
        """Count one use if the period's count stays at most `limit`: the new count, or None
        (and nothing counted) when it would not."""
        ...

    def give_back(self, name: str, subject_hash: str, period: str, *, now: datetime) -> None:
        """Take back one use counted in `period` (the thing it allowed did not happen)."""
        ...


_NAMES = {
    "#used": "used",
    "#entity": "entity",
    "#updated": "updated_at",
    "#expires": "expires_at",
}
_TAKE = (
    "ADD #used :one SET #entity = :entity, #updated = :now, "
    "#expires = if_not_exists(#expires, :expires)"
)


class DynamoAllowanceStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def take(
        self,
        name: str,
        subject_hash: str,
        period: str,
        *,
        limit: int,
        now: datetime,
        expires_at: datetime,
    ) -> int | None:
        try:
            response = self._table.update_item(
                Key=keys.allowance(name, subject_hash, period),
                UpdateExpression=_TAKE,
                ConditionExpression="attribute_not_exists(#used) OR #used < :limit",
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={
                    ":one": 1,
                    ":limit": limit,
                    ":entity": "allowance",
                    ":now": iso(now),
                    ":expires": epoch_seconds(expires_at),
                },
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        used: Any = response["Attributes"]["used"]
        return int(str(used))

    def give_back(self, name: str, subject_hash: str, period: str, *, now: datetime) -> None:
        try:
            self._table.update_item(
                Key=keys.allowance(name, subject_hash, period),
                UpdateExpression="ADD #used :minus_one SET #updated = :now",
                # Never below zero, and never an item made by giving back to an expired one.
                ConditionExpression="#used > :zero",
                ExpressionAttributeNames={"#used": "used", "#updated": "updated_at"},
                ExpressionAttributeValues={":minus_one": -1, ":zero": 0, ":now": iso(now)},
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
