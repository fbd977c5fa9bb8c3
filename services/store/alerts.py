"""Alert rules, stored under their configuration (`CONFIG#{id} | ALERT#{id}`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from services.clock import iso, parse_iso
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

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class AlertRepository(Protocol):
    def put(self, alert: Alert, *, max_allowed: int) -> Alert: ...
    def get(self, user_id: str, config_id: str, alert_id: str) -> Alert: ...
    def list_for_config(self, config_id: str) -> list[Alert]: ...
    def replace(self, alert: Alert) -> Alert: ...
    def delete(self, alert: Alert) -> None: ...
    def emails_sent(self, user_id: str, day: date) -> int: ...


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
        }
    )


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
