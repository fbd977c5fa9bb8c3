"""A user's e-mail preferences (`USER#{user_id} | PREFERENCES`): absent means the defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from services.clock import iso
from services.store import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

PREFERENCES = "PREFERENCES"


@dataclass(frozen=True, slots=True)
class EmailPreferences:
    alert_emails: bool = True
    digest_emails: bool = True


class PreferenceRepository(Protocol):
    def get(self, user_id: str) -> EmailPreferences: ...
    def update(
        self,
        user_id: str,
        now: datetime,
        *,
        alert_emails: bool | None = None,
        digest_emails: bool | None = None,
    ) -> EmailPreferences: ...


class DynamoPreferenceRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, user_id: str) -> EmailPreferences:
        item = self._table.get_item(Key=_key(user_id)).get("Item")
        if item is None:
            return EmailPreferences()
        return EmailPreferences(
            alert_emails=bool(item.get("alert_emails", True)),
            digest_emails=bool(item.get("digest_emails", True)),
        )

    def update(
        self,
        user_id: str,
        now: datetime,
        *,
        alert_emails: bool | None = None,
        digest_emails: bool | None = None,
    ) -> EmailPreferences:
        """Change the given preferences, keep the others; returns the result."""
        names = {"alert_emails": alert_emails, "digest_emails": digest_emails}
        changes = {name: value for name, value in names.items() if value is not None}
        expression = ", ".join(f"{name} = :{name}" for name in changes)
        values: dict[str, Any] = {f":{name}": value for name, value in changes.items()}
        values[":entity"] = "preferences"
        values[":now"] = iso(now)
        prefix = f"{expression}, " if expression else ""
        attributes = self._table.update_item(
            Key=_key(user_id),
            UpdateExpression=f"SET {prefix}entity = :entity, updated_at = :now",
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return EmailPreferences(
            alert_emails=bool(attributes.get("alert_emails", True)),
            digest_emails=bool(attributes.get("digest_emails", True)),
        )


def _key(user_id: str) -> keys.Key:
    return {"PK": keys.user_pk(user_id), "SK": PREFERENCES}
