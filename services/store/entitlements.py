"""Endpoints a provider refused as not in the key's plan, shared by every instance.

One item per provider and endpoint under one partition (`ENTITLEMENT | {provider}#{endpoint}`),
written when a provider answers "not in your plan", read by the other instances so they stop
calling it too. An item expires after `keep` (a day by default): a key whose plan was
upgraded is tried again the next day without anyone deleting anything. `forget` deletes one
at once, for when the plan is known to be back (the `free_plan_keys` chaos scenario ending).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from boto3.dynamodb.conditions import Key

from services.clock import epoch_seconds, iso, parse_iso
from services.store import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

DEFAULT_KEEP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Refusal:
    provider: str
    endpoint: str
    reason: str
    at: datetime
    # "plan": the configured plan excludes it (never called); "provider": the provider said so.
    by: Literal["plan", "provider"] = "provider"


class EntitlementStore(Protocol):
    def record(self, refusal: Refusal) -> None: ...

    def refusals(self, now: datetime) -> list[Refusal]:
        """The refusals not yet expired at `now`."""
        ...

    def forget(self, provider: str, endpoint: str) -> None:
        """Delete the refusal of `endpoint`, if there is one."""
        ...


class DynamoEntitlementStore:
    def __init__(self, table: Table, *, keep: timedelta = DEFAULT_KEEP) -> None:
        self._table = table
        self._keep = keep

    def record(self, refusal: Refusal) -> None:
        self._table.put_item(
            Item={
                **keys.entitlement(refusal.provider, refusal.endpoint),
                "entity": "entitlement",
                "provider": refusal.provider,
                "endpoint": refusal.endpoint,
                "reason": refusal.reason[:500],
                "at": iso(refusal.at),
                "expires_at": epoch_seconds(refusal.at + self._keep),
            }
        )

    def refusals(self, now: datetime) -> list[Refusal]:
        response = self._table.query(KeyConditionExpression=Key("PK").eq(keys.ENTITLEMENTS))
        # TTL deletion lags: an expired item may still be read, so expiry is checked here.
        return [
            _refusal(item)
            for item in response.get("Items", [])
            if int(str(item.get("expires_at", 0))) > epoch_seconds(now)
        ]

    def forget(self, provider: str, endpoint: str) -> None:
        self._table.delete_item(Key=keys.entitlement(provider, endpoint))


def _refusal(item: dict[str, Any]) -> Refusal:
    return Refusal(
        str(item["provider"]),
        str(item["endpoint"]),
        str(item["reason"]),
        parse_iso(str(item["at"])),
    )
