"""Retiring anonymous users once their expiry has passed.

Their profile carries the table's TTL attribute, but TTL alone is not enough: each live
configuration holds a watcher count on its tickers (`TRACKED | TICKER#x`, what ingestion
fetches), and a configuration deleted by TTL would never give it back. So configurations are
not given a TTL; the cleanup finds due users through their `ANONEXPIRY` entries, oldest
first, and deletes everything under the user's partition (configurations through
`DynamoConfigurationRepository.purge`, which returns the counts in the same transaction) and
the alert rules they made, then the profile, then the entry. Each step can be repeated, so a
run that stops half way is finished by the next one. Session tokens (`TOKEN#`) are left to
their own TTL, which passed a grace period ago.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Key

from services.clock import epoch_seconds, iso
from services.store import keys
from services.store.configurations import DynamoConfigurationRepository
from services.store.pages import every_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass(frozen=True, slots=True)
class DueAnonymousUser:
    """An `ANONEXPIRY` entry whose time has come."""

    user_id: str
    sort_key: str


class AnonymousUserStore(Protocol):
    def due(self, now: datetime, *, limit: int) -> list[DueAnonymousUser]: ...
    def retire(self, due: DueAnonymousUser, now: datetime) -> bool: ...


def still_wanted(profile: dict[str, Any] | None, now: datetime) -> bool:
    """True when the entry is stale: the user signed in (an account now) or its expiry was
    moved past `now` (a newer entry stands for it)."""
    if profile is None:
        return False
    if profile.get("auth_type") != "anonymous":
        return True
    expires = profile.get("expires_at")
    return expires is None or int(expires) > epoch_seconds(now)


class DynamoAnonymousUserStore:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._configs = DynamoConfigurationRepository(table)

    def due(self, now: datetime, *, limit: int) -> list[DueAnonymousUser]:
        """The oldest entries whose expiry is before `now`, at most `limit` (one query)."""
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(keys.ANONYMOUS_EXPIRY) & Key("SK").lt(iso(now)),
            Limit=limit,
        )
        return [
            DueAnonymousUser(str(item["user_id"]), str(item["SK"])) for item in response["Items"]
        ]

    def retire(self, due: DueAnonymousUser, now: datetime) -> bool:
        """Delete the user and what it owns; False (and only the entry dropped) when the user
        is still wanted."""
        profile = self._table.get_item(Key=keys.user_profile(due.user_id), ConsistentRead=True).get(
            "Item"
        )
        wanted = still_wanted(profile, now)
        if not wanted:
            self._purge_partition(due.user_id)
        self._table.delete_item(Key={"PK": keys.ANONYMOUS_EXPIRY, "SK": due.sort_key})
        return not wanted

    def _purge_partition(self, user_id: str) -> None:
        profile_key = keys.user_profile(user_id)
        others: list[dict[str, str]] = []
        for item in self._partition(user_id):
            sort_key = str(item["SK"])
            if sort_key.startswith(keys.CONFIG_PREFIX):
                self._delete_alerts(str(item["config_id"]), user_id)
                self._configs.purge(item)
            elif sort_key != keys.PROFILE:
                others.append({"PK": str(item["PK"]), "SK": sort_key})
        with self._table.batch_writer() as batch:
            for key in others:
                batch.delete_item(Key=key)
        # Last: while the profile stands, a retry still knows this user was anonymous.
        self._table.delete_item(Key=profile_key)

    def _partition(self, user_id: str) -> list[dict[str, Any]]:
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(keys.user_pk(user_id)),
            "ConsistentRead": True,
        }
        return list(every_item(self._table.query, query))

    def _delete_alerts(self, config_id: str, user_id: str) -> None:
        """The user's own rules on a configuration (a configuration moved to an account keeps
        its id, and the account's rules on it stay)."""
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(f"CONFIG#{config_id}")
            & Key("SK").begins_with(keys.ALERT_PREFIX)
        )
        with self._table.batch_writer() as batch:
            for item in response["Items"]:
                if item.get("user_id") == user_id:
                    batch.delete_item(Key={"PK": str(item["PK"]), "SK": str(item["SK"])})
