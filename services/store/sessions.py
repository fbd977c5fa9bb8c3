"""Sign-in sessions and their bearer tokens (stored as hashes only)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from services.clock import epoch_seconds, iso, parse_iso
from services.store import keys
from services.store.errors import ConflictError, NotFoundError
from services.store.items import (
    Item,
    is_condition_failure,
    is_live,
    opt_iso,
    opt_time,
    transact_write,
    without_nones,
)
from services.store.models import Session

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def token_hash(token: str) -> str:
    """Bearer tokens are high-entropy random strings, so an unsalted SHA-256 is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


class SessionRepository(Protocol):
    def create(self, session: Session) -> Session: ...
    def find_by_token_hash(self, token_hash: str, now: datetime) -> Session | None: ...
    def revoke(self, session: Session, now: datetime) -> Session: ...
    def list_for_user(self, user_id: str, now: datetime) -> list[Session]: ...


def session_to_item(session: Session) -> Item:
    return without_nones(
        {
            **keys.user_session(session.user_id, session.session_id),
            "entity": "session",
            "session_id": session.session_id,
            "user_id": session.user_id,
            "auth_type": session.auth_type,
            "token_hash": session.token_hash,
            "created_at": iso(session.created_at),
            "session_expires_at": iso(session.expires_at),
            "expires_at": epoch_seconds(session.expires_at),
            "revoked_at": opt_iso(session.revoked_at),
            "account_version": session.account_version,
        }
    )


def session_from_item(item: dict[str, Any]) -> Session:
    return Session(
        session_id=str(item["session_id"]),
        user_id=str(item["user_id"]),
        auth_type=item["auth_type"],
        token_hash=str(item["token_hash"]),
        created_at=parse_iso(str(item["created_at"])),
        expires_at=parse_iso(str(item["session_expires_at"])),
        revoked_at=opt_time(item.get("revoked_at")),
        account_version=int(item["account_version"]) if "account_version" in item else None,
    )


class DynamoSessionRepository:
    """The session item lists a user's sessions; the token item answers "whose bearer is this"."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def create(self, session: Session) -> Session:
        session_item = session_to_item(session)
        token_item = {
            **session_item,
            **keys.token(session.token_hash),
            "entity": "token",
            "kind": "session",
        }
        try:
            transact_write(
                self._table,
                [
                    {
                        "Put": {
                            "Item": session_item,
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {
                        "Put": {
                            "Item": token_item,
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ],
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise ConflictError("session or token already exists") from error
            raise
        return session

    def find_by_token_hash(self, token_hash: str, now: datetime) -> Session | None:
        # A base-table GetItem, strongly consistent: a sign-out or a conversion that revoked
        # this token on another instance counts at once, never after replication lag. It
        # costs a full read unit instead of half of one, on every authenticated request.
        item = self._table.get_item(Key=keys.token(token_hash), ConsistentRead=True).get("Item")
        if item is None or item.get("kind") != "session" or not is_live(item, now):
            return None
        session = session_from_item(item)
        return session if session.is_active(now) else None

    def revoke(self, session: Session, now: datetime) -> Session:
        update = {
            "UpdateExpression": "SET revoked_at = :r",
            "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(revoked_at)",
            "ExpressionAttributeValues": {":r": iso(now)},
        }
        try:
            transact_write(
                self._table,
                [
                    {"Update": {"Key": keys.token(session.token_hash), **update}},
                    {
                        "Update": {
                            "Key": keys.user_session(session.user_id, session.session_id),
                            **update,
                        }
                    },
                ],
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise NotFoundError("session already revoked or gone") from error
            raise
        return replace(session, revoked_at=now)

    def list_for_user(self, user_id: str, now: datetime) -> list[Session]:
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(keys.user_pk(user_id))
            & Key("SK").begins_with(keys.SESSION_PREFIX)
        )
        sessions = [session_from_item(i) for i in response["Items"] if is_live(i, now)]
        return [s for s in sessions if s.is_active(now)]
