"""Alert rules, stored under their configuration (`CONFIG#{id} | ALERT#{id}`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from services.clock import epoch_seconds, iso, parse_iso
from services.store import keys
from services.store.errors import LimitReachedError, NotFoundError
from services.store.items import (
    Item,
    is_condition_failure,
    opt_iso,
    opt_time,
    to_decimal,
    transact_write,
    without_nones,
)
from services.store.models import Alert
from services.store.pages import every_item
from services.store.schema import BY_TAG

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class AlertRepository(Protocol):
    def put(self, alert: Alert, *, max_allowed: int) -> Alert: ...
    def get(self, user_id: str, config_id: str, alert_id: str) -> Alert: ...
    def list_for_config(self, config_id: str) -> list[Alert]: ...
    def replace(self, alert: Alert) -> Alert: ...
    def delete(self, alert: Alert) -> None: ...
    def emails_sent(self, user_id: str, day: date) -> int: ...
    def list_for_ticker(self, ticker: str) -> list[Alert]: ...
    def rearm(self, alert: Alert) -> None: ...


def alert_to_item(alert: Alert) -> Item:
    return without_nones(
        {
            **keys.config_alert(alert.config_id, alert.alert_id),
            "entity": "alert",
            "alert_id": alert.alert_id,
            "user_id": alert.user_id,
            "config_id": alert.config_id,
            "ticker": alert.ticker,
            "alert_type": alert.alert_type,
            "direction": alert.direction,
            "threshold": to_decimal(alert.threshold),
            "enabled": alert.enabled,
            "created_at": iso(alert.created_at),
            "updated_at": iso(alert.updated_at),
            "last_triggered_at": opt_iso(alert.last_triggered_at),
            "in_breach": alert.in_breach,
            # The ticker's rules, found by `by_tag` when its sentiment changes.
            BY_TAG.partition_key: alert_tag(alert.ticker),
            BY_TAG.sort_key: iso(alert.created_at),
        }
    )


def alert_tag(ticker: str) -> str:
    return f"{keys.ALERT_PREFIX}{ticker}"


def alert_from_item(item: dict[str, Any]) -> Alert:
    return Alert(
        alert_id=str(item["alert_id"]),
        user_id=str(item["user_id"]),
        config_id=str(item["config_id"]),
        ticker=str(item["ticker"]),
        alert_type=item["alert_type"],
        direction=item["direction"],
        threshold=float(item["threshold"]),
        enabled=bool(item["enabled"]),
        created_at=parse_iso(str(item["created_at"])),
        updated_at=parse_iso(str(item["updated_at"])),
        last_triggered_at=opt_time(item.get("last_triggered_at")),
        in_breach=bool(item.get("in_breach", False)),
    )


class DynamoAlertRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, alert: Alert, *, max_allowed: int) -> Alert:
        """Insert; the user's alert counter rises in the same transaction, under the limit."""
        try:
            transact_write(
                self._table,
                [
                    {
                        "Update": {
                            "Key": keys.user_profile(alert.user_id),
                            "UpdateExpression": "ADD alert_count :one",
                            "ConditionExpression": "attribute_exists(PK) AND "
                            "(attribute_not_exists(alert_count) OR alert_count < :max)",
                            "ExpressionAttributeValues": {":one": 1, ":max": max_allowed},
                        }
                    },
                    {
                        "Put": {
                            "Item": alert_to_item(alert),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ],
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise LimitReachedError(f"maximum of {max_allowed} alert(s) reached") from error
            raise
        return alert

    def get(self, user_id: str, config_id: str, alert_id: str) -> Alert:
        item = self._table.get_item(Key=keys.config_alert(config_id, alert_id)).get("Item")
        # Owned by someone else reads exactly like absent.
        if item is None or item.get("user_id") != user_id:
            raise NotFoundError(f"alert {alert_id} not found")
        return alert_from_item(item)

    def list_for_config(self, config_id: str) -> list[Alert]:
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(f"CONFIG#{config_id}")
            & Key("SK").begins_with(keys.ALERT_PREFIX)
        )
        return sorted((alert_from_item(i) for i in response["Items"]), key=lambda a: a.created_at)

    def replace(self, alert: Alert) -> Alert:
        try:
            self._table.put_item(
                Item=alert_to_item(alert),
                ConditionExpression="attribute_exists(PK) AND user_id = :u",
                ExpressionAttributeValues={":u": alert.user_id},
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise NotFoundError(f"alert {alert.alert_id} not found") from error
            raise
        return alert

    def delete(self, alert: Alert) -> None:
        try:
            transact_write(
                self._table,
                [
                    {
                        "Delete": {
                            "Key": keys.config_alert(alert.config_id, alert.alert_id),
                            "ConditionExpression": "user_id = :u",
                            "ExpressionAttributeValues": {":u": alert.user_id},
                        }
                    },
                    {
                        "Update": {
                            "Key": keys.user_profile(alert.user_id),
                            "UpdateExpression": "ADD alert_count :minus",
                            "ConditionExpression": "alert_count > :zero",
                            "ExpressionAttributeValues": {":minus": -1, ":zero": 0},
                        }
                    },
                ],
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise NotFoundError(f"alert {alert.alert_id} not found") from error
            raise

    def emails_sent(self, user_id: str, day: date) -> int:
        item = self._table.get_item(Key=keys.user_email_count(user_id, day.isoformat())).get("Item")
        return int(str(item["count"])) if item else 0

    def list_for_ticker(self, ticker: str) -> list[Alert]:
        """Every rule on `ticker`, across users and configurations (by_tag)."""
        query: dict[str, Any] = {
            "IndexName": BY_TAG.name,
            "KeyConditionExpression": Key(BY_TAG.partition_key).eq(alert_tag(ticker)),
        }
        return [alert_from_item(item) for item in every_item(self._table.query, query)]

    def rearm(self, alert: Alert) -> None:
        """The rule's condition cleared: the next crossing may fire it again."""
        try:
            self._table.update_item(
                Key=keys.config_alert(alert.config_id, alert.alert_id),
                UpdateExpression="SET in_breach = :false",
                ConditionExpression="in_breach = :true",
                ExpressionAttributeValues={":false": False, ":true": True},
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise


def fire_operation(alert: Alert, now: datetime, cooldown: timedelta) -> dict[str, Any]:
    """The transaction entry that marks `alert` fired, only if it is enabled, armed and out
    of its cool-down: of two analysis workers seeing the same crossing, one fires it."""
    return {
        "Update": {
            "Key": keys.config_alert(alert.config_id, alert.alert_id),
            "UpdateExpression": "SET in_breach = :true, last_triggered_at = :now",
            "ConditionExpression": "attribute_exists(PK) AND enabled = :true"
            " AND (attribute_not_exists(in_breach) OR in_breach = :false)"
            " AND (attribute_not_exists(last_triggered_at) OR last_triggered_at <= :cooled)",
            "ExpressionAttributeValues": {
                ":true": True,
                ":false": False,
                ":now": iso(now),
                ":cooled": iso(now - cooldown),
            },
        }
    }


def daily_email_operation(user_id: str, day: date, limit: int, keep: timedelta) -> dict[str, Any]:
    """The transaction entry that counts one more e-mail to `user_id` on `day`, under the
    user's daily limit (the counter `GET /alerts/quota` reads)."""
    return {
        "Update": {
            "Key": keys.user_email_count(user_id, day.isoformat()),
            "UpdateExpression": "ADD #count :one SET entity = :entity, expires_at = :expires",
            "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": {
                ":one": 1,
                ":limit": limit,
                ":entity": "email_count",
                ":expires": epoch_seconds(datetime.combine(day, time.min, UTC) + keep),
            },
        }
    }
