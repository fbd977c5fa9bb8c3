"""Quota counters: how many requests to a provider all instances made in one period, and
which symbols they asked for.

`service` names the counter: the tracker passes a quota's id, `{service}:{name}`
(`tiingo:requests_per_hour`), so a provider's quotas never share an item (and none is an
item of the single-quota layout, `QUOTA#tiingo#2026-11`, which is only left to expire).

One item per counter and period (`QUOTA#{service}#{period} | COUNTER`). Counts only ever
grow through DynamoDB's atomic `ADD`, so instances adding at the same time never lose one
another's calls, and the total comes back in the same request. `add_within` is the
conditional form used near the limit: the add happens only if the total stays within a cap,
so of two instances racing for the last unit exactly one gets it.

Distinct symbols are a string set on their own item (`QUOTA#{service}#{period} | SYMBOLS`),
grown by the same atomic `ADD` (a symbol already in the set is not added twice), which
returns the whole set. With a cap, the add happens only if the set had at most
`cap - len(symbols)` members before, so it cannot pass the cap whichever of them are new.

An item expires some time after its period ends (it is never read again by then, except by
a person).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from services.clock import epoch_seconds, iso
from services.store import keys
from services.store.items import is_condition_failure

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class QuotaStore(Protocol):
    def add(
        self, service: str, period: str, amount: int, *, now: datetime, expires_at: datetime
    ) -> int:
        """Add `amount` (may be negative, to give back a unit) atomically; the new total."""
        ...

    def add_within(
        self,
        service: str,
        period: str,
        amount: int,
        *,
        cap: int,
        now: datetime,
        expires_at: datetime,
    ) -> int | None:
        """Add `amount` only if the total stays at most `cap`: the new total, or None (and
        nothing added) when it would not."""
        ...

    def get(self, service: str, period: str) -> int:
        """The period's total so far (0 when nothing was counted)."""
        ...

    def add_symbols(
        self,
        service: str,
        period: str,
        symbols: Collection[str],
        *,
        cap: int | None,
        now: datetime,
        expires_at: datetime,
    ) -> frozenset[str] | None:
        """Add `symbols` (not empty) to the period's set atomically: the set after. With a
        `cap`, only if the set had at most `cap - len(symbols)` members: else None, and
        nothing added."""
        ...

    def symbols(self, service: str, period: str) -> frozenset[str]:
        """The period's set so far (empty when nothing was added)."""
        ...


# Every attribute by placeholder: several of these names are DynamoDB reserved words.
_NAMES = {
    "#used": "used",
    "#entity": "entity",
    "#service": "service",
    "#period": "period",
    "#updated": "updated_at",
    "#expires": "expires_at",
}
# Both items of a counter carry the same attributes besides what they count.
_STAMP = (
    "SET #entity = :entity, #service = :service, #period = :period, "
    "#updated = :now, #expires = if_not_exists(#expires, :expires)"
)
_UPDATE = f"ADD #used :amount {_STAMP}"


_SYMBOL_NAMES = {**{k: v for k, v in _NAMES.items() if k != "#used"}, "#symbols": "symbols"}
_ADD_SYMBOLS = f"ADD #symbols :symbols {_STAMP}"


class DynamoQuotaStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add(
        self, service: str, period: str, amount: int, *, now: datetime, expires_at: datetime
    ) -> int:
        return self._update(service, period, amount, now, expires_at)

    def add_within(
        self,
        service: str,
        period: str,
        amount: int,
        *,
        cap: int,
        now: datetime,
        expires_at: datetime,
    ) -> int | None:
        highest_before = cap - amount
        if highest_before < 0:
            return None
        try:
            return self._update(service, period, amount, now, expires_at, highest_before)
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise

    def get(self, service: str, period: str) -> int:
        response = self._table.get_item(Key=keys.quota(service, period), ConsistentRead=True)
        item = response.get("Item")
        return int(str(item["used"])) if item else 0

    def add_symbols(
        self,
        service: str,
        period: str,
        symbols: Collection[str],
        *,
        cap: int | None,
        now: datetime,
        expires_at: datetime,
    ) -> frozenset[str] | None:
        added = set(symbols)
        values = {":symbols": added, **_stamp("quota_symbols", service, period, now, expires_at)}
        condition = None
        if cap is not None:
            highest_before = cap - len(added)
            if highest_before < 0:
                return None
            condition = "attribute_not_exists(#symbols) OR size(#symbols) <= :highest"
            values[":highest"] = highest_before
        try:
            attributes = self._add(
                keys.quota_symbols(service, period), _ADD_SYMBOLS, _SYMBOL_NAMES, values, condition
            )
        except ClientError as error:
            if cap is not None and is_condition_failure(error):
                return None
            raise
        stored: Any = attributes["symbols"]  # a string set: a Python set
        return frozenset(str(s) for s in stored)

    def symbols(self, service: str, period: str) -> frozenset[str]:
        response = self._table.get_item(
            Key=keys.quota_symbols(service, period), ConsistentRead=True
        )
        item = response.get("Item")
        stored: Any = item.get("symbols", ()) if item else ()
        return frozenset(str(s) for s in stored)

    def _update(
        self,
        service: str,
        period: str,
        amount: int,
        now: datetime,
        expires_at: datetime,
        highest_before: int | None = None,
    ) -> int:
        values = {":amount": amount, **_stamp("quota", service, period, now, expires_at)}
        condition = None
        if highest_before is not None:
            condition = "attribute_not_exists(#used) OR #used <= :highest"
            values[":highest"] = highest_before
        attributes = self._add(keys.quota(service, period), _UPDATE, _NAMES, values, condition)
        return int(str(attributes["used"]))

    def _add(
        self,
        key: keys.Key,
        expression: str,
        names: dict[str, str],
        values: dict[str, Any],
        condition: str | None,
    ) -> dict[str, Any]:
        """One atomic `ADD` to a counter's item, under `condition` when there is one: the
        attributes it changed."""
        conditional: dict[str, Any] = {"ConditionExpression": condition} if condition else {}
        response = self._table.update_item(
            Key=key,
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="UPDATED_NEW",
            **conditional,
        )
        return dict(response["Attributes"])


def _stamp(
    entity: str, service: str, period: str, now: datetime, expires_at: datetime
) -> dict[str, Any]:
    """The values of the attributes `_STAMP` sets."""
    return {
        ":entity": entity,
        ":service": service,
        ":period": period,
        ":now": iso(now),
        ":expires": epoch_seconds(expires_at),
    }
