"""Single-use tokens: magic links, OAuth state, unsubscribe links. Only hashes are stored."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from services.clock import epoch_seconds, iso, parse_iso
from services.store import keys
from services.store.errors import ConflictError, NotFoundError, TokenExpiredError, TokenUsedError
from services.store.items import Item, is_condition_failure, opt_iso, opt_time, without_nones
from services.store.models import SingleUseToken

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# Expired links are kept a day past their expiry so a late click gets "expired" (410)
# rather than "unknown" (400); DynamoDB's TTL removes them after that.
_KEEP_AFTER_EXPIRY_S = 24 * 3600


class TokenRepository(Protocol):
    def put(self, token: SingleUseToken) -> SingleUseToken: ...
    def consume(self, token_hash: str, kind: str, now: datetime) -> SingleUseToken: ...
    def peek(self, token_hash: str, kind: str, now: datetime) -> SingleUseToken: ...


def token_to_item(token: SingleUseToken) -> Item:
    return without_nones(
        {
            **keys.token(token.token_hash),
            "entity": "token",
            "kind": token.kind,
            "subject": token.subject,
            "data": dict(token.data) or None,
            "created_at": iso(token.created_at),
            "token_expires_at": iso(token.expires_at),
            "expires_at": epoch_seconds(token.expires_at) + _KEEP_AFTER_EXPIRY_S,
            "used_at": opt_iso(token.used_at),
        }
    )


def token_from_item(token_hash: str, item: dict[str, Any]) -> SingleUseToken:
    return SingleUseToken(
        token_hash=token_hash,
        kind=item["kind"],
        subject=str(item["subject"]),
        created_at=parse_iso(str(item["created_at"])),
        expires_at=parse_iso(str(item["token_expires_at"])),
        data={str(k): str(v) for k, v in item.get("data", {}).items()},
        used_at=opt_time(item.get("used_at")),
    )


class DynamoTokenRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def put(self, token: SingleUseToken) -> SingleUseToken:
        try:
            self._table.put_item(
                Item=token_to_item(token), ConditionExpression="attribute_not_exists(PK)"
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise ConflictError("token already exists") from error
            raise
        return token

    def consume(self, token_hash: str, kind: str, now: datetime) -> SingleUseToken:
        """Mark the token used, exactly once: of two concurrent consumers only one succeeds."""
        try:
            response = self._table.update_item(
                Key=keys.token(token_hash),
                UpdateExpression="SET used_at = :now",
                ConditionExpression=(
                    "attribute_exists(PK) AND kind = :kind AND attribute_not_exists(used_at) "
                    "AND token_expires_at > :now"
                ),
                ExpressionAttributeValues={":now": iso(now), ":kind": kind},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            # Read back only to tell the caller why: unknown (400), used (409), expired (410).
            item = self._table.get_item(Key=keys.token(token_hash)).get("Item")
            if item is None or item.get("kind") != kind:
                raise NotFoundError("unknown token") from error
            current = token_from_item(token_hash, item)
            if current.used_at is not None:
                raise TokenUsedError("token already used") from error
            raise TokenExpiredError("token expired") from error
        return token_from_item(token_hash, response["Attributes"])

    def peek(self, token_hash: str, kind: str, now: datetime) -> SingleUseToken:
        """The token, without using it (to ask "sign in as ...?" before spending it); fails
        like `consume` would: unknown, used or expired."""
        item = self._table.get_item(Key=keys.token(token_hash), ConsistentRead=True).get("Item")
        if item is None or item.get("kind") != kind:
            raise NotFoundError("unknown token")
        token = token_from_item(token_hash, item)
        if token.used_at is not None:
            raise TokenUsedError("token already used")
        if token.expires_at <= now:
            raise TokenExpiredError("token expired")
        return token
