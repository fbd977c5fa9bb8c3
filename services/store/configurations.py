"""Watchlist configurations: per-user limit enforced atomically, optimistic updates, soft delete."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from services.clock import iso, parse_iso
from services.store import keys
from services.store.errors import ConflictError, LimitReachedError, NotFoundError, StoreError
from services.store.items import (
    Item,
    cancellation_codes,
    is_condition_failure,
    opt_iso,
    opt_time,
    transact_write,
    without_nones,
)
from services.store.models import Configuration

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class ConfigurationRepository(Protocol):
    def create(self, config: Configuration, *, max_allowed: int) -> Configuration: ...
    def get(self, user_id: str, config_id: str) -> Configuration: ...
    def list_for_user(self, user_id: str) -> list[Configuration]: ...
    def update(self, config: Configuration, *, expected_version: int) -> Configuration: ...
    def soft_delete(self, user_id: str, config_id: str, now: datetime) -> Configuration: ...
    def tracked_tickers(self) -> list[str]: ...
    def transfer(
        self, config: Configuration, to_user_id: str, *, max_allowed: int, now: datetime
    ) -> Configuration: ...


def _watch(tickers: tuple[str, ...] | list[str], delta: int) -> list[dict[str, Any]]:
    """Keep `TRACKED | TICKER#x` counts in step with live configurations (same transaction)."""
    return [
        {
            "Update": {
                "Key": keys.tracked_ticker(ticker),
                "UpdateExpression": "ADD watchers :d SET ticker = :t, entity = :e",
                "ExpressionAttributeValues": {":d": delta, ":t": ticker, ":e": "tracked"},
            }
        }
        for ticker in sorted(set(tickers))
    ]


def _count_one_more(user_id: str, max_allowed: int) -> dict[str, Any]:
    """The user's count of live configurations up by one, within `max_allowed`. A transaction
    puts it first, so a refusal of its first operation reads as the limit."""
    return {
        "Update": {
            "Key": keys.user_profile(user_id),
            "UpdateExpression": "ADD config_count :one",
            "ConditionExpression": "attribute_exists(PK) AND "
            "(attribute_not_exists(config_count) OR config_count < :max)",
            "ExpressionAttributeValues": {":one": 1, ":max": max_allowed},
        }
    }


def _count_one_less(user_id: str) -> dict[str, Any]:
    return {
        "Update": {
            "Key": keys.user_profile(user_id),
            "UpdateExpression": "ADD config_count :minus",
            "ConditionExpression": "config_count > :zero",
            "ExpressionAttributeValues": {":minus": -1, ":zero": 0},
        }
    }


def _put_new(config: Configuration) -> dict[str, Any]:
    return {
        "Put": {
            "Item": config_to_item(config),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def _adding_refused(error: ClientError, max_allowed: int, conflict: str) -> StoreError:
    """Why a transaction that counts a configuration for a user (`_count_one_more` first) was
    refused: the user's limit, or `conflict`."""
    if cancellation_codes(error)[:1] == ["ConditionalCheckFailed"]:
        return LimitReachedError(f"maximum of {max_allowed} configuration(s) reached")
    return ConflictError(conflict)


def config_to_item(config: Configuration) -> Item:
    return without_nones(
        {
            **keys.user_config(config.user_id, config.config_id),
            "entity": "config",
            "config_id": config.config_id,
            "user_id": config.user_id,
            "name": config.name,
            "tickers": list(config.tickers),
            "created_at": iso(config.created_at),
            "updated_at": iso(config.updated_at),
            "version": config.version,
            "deleted_at": opt_iso(config.deleted_at),
        }
    )


def config_from_item(item: dict[str, Any]) -> Configuration:
    return Configuration(
        config_id=str(item["config_id"]),
        user_id=str(item["user_id"]),
        name=str(item["name"]),
        tickers=tuple(str(t) for t in item.get("tickers", [])),
        created_at=parse_iso(str(item["created_at"])),
        updated_at=parse_iso(str(item["updated_at"])),
        version=int(item.get("version", 1)),
        deleted_at=opt_time(item.get("deleted_at")),
    )


class DynamoConfigurationRepository:
    """The user's profile holds a live count, so the limit holds under concurrent creates."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def create(self, config: Configuration, *, max_allowed: int) -> Configuration:
        try:
            transact_write(
                self._table,
                [
                    _count_one_more(config.user_id, max_allowed),
                    _put_new(config),
                    *_watch(config.tickers, +1),
                ],
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            raise _adding_refused(error, max_allowed, "configuration already exists") from error
        return config

    def get(self, user_id: str, config_id: str) -> Configuration:
        item = self._table.get_item(Key=keys.user_config(user_id, config_id)).get("Item")
        if item is None or item.get("deleted_at"):
            raise NotFoundError(f"configuration {config_id} not found")
        return config_from_item(item)

    def list_for_user(self, user_id: str) -> list[Configuration]:
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(keys.user_pk(user_id))
            & Key("SK").begins_with(keys.CONFIG_PREFIX)
        )
        configs = [config_from_item(i) for i in response["Items"] if not i.get("deleted_at")]
        return sorted(configs, key=lambda c: c.created_at)

    def update(self, config: Configuration, *, expected_version: int) -> Configuration:
        """Write `config` only if nobody changed it since `expected_version` was read."""
        updated = replace(config, version=expected_version + 1)
        current = self.get(config.user_id, config.config_id)
        added = [t for t in config.tickers if t not in current.tickers]
        removed = [t for t in current.tickers if t not in config.tickers]
        try:
            # The version condition also guards the watcher deltas computed from `current`.
            transact_write(
                self._table,
                [
                    {
                        "Put": {
                            "Item": config_to_item(updated),
                            "ConditionExpression": "version = :v AND "
                            "attribute_not_exists(deleted_at)",
                            "ExpressionAttributeValues": {":v": expected_version},
                        }
                    },
                    *_watch(added, +1),
                    *_watch(removed, -1),
                ],
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise ConflictError(
                    f"configuration {config.config_id} changed since it was read"
                ) from error
            raise
        return updated

    def soft_delete(self, user_id: str, config_id: str, now: datetime) -> Configuration:
        """Hide the configuration and free its slot; the item stays for the audit trail."""
        current = self.get(user_id, config_id)
        try:
            transact_write(
                self._table,
                [
                    {
                        "Update": {
                            "Key": keys.user_config(user_id, config_id),
                            "UpdateExpression": "SET deleted_at = :now, version = version + :one",
                            "ConditionExpression": "version = :v AND "
                            "attribute_not_exists(deleted_at)",
                            "ExpressionAttributeValues": {
                                ":now": iso(now),
                                ":one": 1,
                                ":v": current.version,
                            },
                        }
                    },
                    _count_one_less(user_id),
                    *_watch(current.tickers, -1),
                ],
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise NotFoundError(f"configuration {config_id} not found") from error
            raise
        item = self._table.get_item(Key=keys.user_config(user_id, config_id))["Item"]
        return config_from_item(item)

    def transfer(
        self, config: Configuration, to_user_id: str, *, max_allowed: int, now: datetime
    ) -> Configuration:
        """Give a live configuration to another user, within that user's limit, atomically.

        The copy keeps its id, so links to it keep working; the original is soft-deleted with
        a `moved_to` note for the audit trail, and both users' counts move in the same
        transaction. Watcher counts do not change: one live configuration replaces another.
        """
        moved = replace(config, user_id=to_user_id, updated_at=now)
        try:
            transact_write(
                self._table, _transfer_operations(config, moved, max_allowed=max_allowed, now=now)
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            conflict = f"configuration {config.config_id} changed or moved since it was read"
            raise _adding_refused(error, max_allowed, conflict) from error
        return moved

    def purge(self, item: dict[str, Any]) -> None:
        """Delete a stored configuration for good (its owner is being retired) and, if it was
        live, give back its watcher counts in the same transaction. The version condition
        makes a repeated purge give nothing back twice; the owner's profile is left alone (it
        is deleted with the owner)."""
        config = config_from_item(item)
        operations: list[dict[str, Any]] = [
            {
                "Delete": {
                    "Key": keys.user_config(config.user_id, config.config_id),
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": {":v": config.version},
                }
            }
        ]
        if config.deleted_at is None:
            operations += _watch(config.tickers, -1)
        try:
            transact_write(self._table, operations)
        except ClientError as error:
            if not is_condition_failure(error):
                raise

    def tracked_tickers(self) -> list[str]:
        """Tickers watched by at least one live configuration, sorted."""
        response = self._table.query(KeyConditionExpression=Key("PK").eq(keys.TRACKED))
        return sorted(str(i["ticker"]) for i in response["Items"] if int(str(i["watchers"])) > 0)


def _transfer_operations(
    config: Configuration, moved: Configuration, *, max_allowed: int, now: datetime
) -> list[dict[str, Any]]:
    """One transaction: the receiver's count goes up within its limit (first, so a refusal
    there reads as the limit), the copy is written, the original (still at the version read)
    is soft-deleted with a note of where it went, and the giver's count goes down."""
    return [
        _count_one_more(moved.user_id, max_allowed),
        _put_new(moved),
        {
            "Update": {
                "Key": keys.user_config(config.user_id, config.config_id),
                "UpdateExpression": "SET deleted_at = :now, moved_to = :to, "
                "version = version + :one",
                "ConditionExpression": "version = :v AND attribute_not_exists(deleted_at)",
                "ExpressionAttributeValues": {
                    ":now": iso(now),
                    ":to": moved.user_id,
                    ":one": 1,
                    ":v": config.version,
                },
            }
        },
        _count_one_less(config.user_id),
    ]
