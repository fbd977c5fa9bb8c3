"""Users: profiles, the unique e-mail index, the accounts directory and anonymous expiry.

An anonymous user carries the table's TTL attribute (its session's expiry plus a grace period)
and an `ANONEXPIRY` entry the cleanup reads when it is due; signing in removes both. An account
(a user with an address) has an `ACCOUNTS` entry instead, which is how the digest finds
accounts without scanning the table.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from services.clock import epoch_seconds, iso, parse_iso
from services.store import keys
from services.store.errors import ConflictError, NotFoundError
from services.store.items import (
    Item,
    is_condition_failure,
    opt_iso,
    opt_time,
    transact_write,
    without_nones,
)
from services.store.models import AuthType, User
from services.store.pages import every_item, pages

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def email_hash(email: str) -> str:
    """Addresses are looked up by hash so the index key never holds the address itself."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class UserRepository(Protocol):
    def create(self, user: User) -> User: ...
    def get(self, user_id: str) -> User: ...
    def find_by_email(self, email: str) -> User | None: ...
    def upgrade(self, user: User, *, auth_type: AuthType, email: str | None) -> User: ...
    def list_accounts(self, *, limit: int) -> list[User]: ...


# BatchGetItem takes at most 100 keys per request.
_BATCH_GET_MAX = 100


def user_to_item(user: User) -> Item:
    return without_nones(
        {
            **keys.user_profile(user.user_id),
            "entity": "user",
            "user_id": user.user_id,
            "auth_type": user.auth_type,
            "email": user.email,
            "created_at": iso(user.created_at),
            "config_count": user.config_count,
            "version": user.version,
            "merged_into": user.merged_into,
            # The TTL attribute (epoch seconds) and the same moment as text, which names the
            # user's expiry entry.
            "expires_at": epoch_seconds(user.expires_at) if user.expires_at else None,
            "user_expires_at": opt_iso(user.expires_at),
        }
    )


def user_from_item(item: dict[str, Any]) -> User:
    return User(
        user_id=str(item["user_id"]),
        auth_type=item["auth_type"],
        created_at=parse_iso(str(item["created_at"])),
        email=item.get("email"),
        config_count=int(item.get("config_count", 0)),
        version=int(item.get("version", 1)),
        merged_into=item.get("merged_into"),
        expires_at=opt_time(item.get("user_expires_at")),
    )


def expiry_entry(user: User) -> Item:
    """The `ANONEXPIRY` entry of an anonymous user: found by the cleanup once it is due."""
    assert user.expires_at is not None
    return {
        **keys.anonymous_expiry(iso(user.expires_at), user.user_id),
        "entity": "anonymous_expiry",
        "user_id": user.user_id,
    }


def account_entry(user_id: str) -> Item:
    return {**keys.account_entry(user_id), "entity": "account_entry", "user_id": user_id}


class DynamoUserRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def create(self, user: User) -> User:
        """Insert a user; with an e-mail, claim the address atomically so it maps to one user."""
        profile = {
            "Put": {
                "Item": user_to_item(user),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        operations: list[Any] = [profile]
        if user.expires_at is not None:
            operations.append({"Put": {"Item": expiry_entry(user)}})
        if user.email:
            operations.append(self._email_claim(user.email, user.user_id))
            operations.append({"Put": {"Item": account_entry(user.user_id)}})
        try:
            transact_write(self._table, operations)
        except ClientError as error:
            if is_condition_failure(error):
                raise ConflictError("user or e-mail already exists") from error
            raise
        return user

    def get(self, user_id: str) -> User:
        # Strongly consistent: authentication reads the profile again when a session is newer
        # than the cached copy (an upgrade), and a lagging replica could hand back the old one.
        item = self._table.get_item(Key=keys.user_profile(user_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFoundError(f"user {user_id} not found")
        return user_from_item(item)

    def find_by_email(self, email: str) -> User | None:
        owner = self._table.get_item(Key=keys.email_owner(email_hash(email))).get("Item")
        if owner is None:
            return None
        return self.get(str(owner["user_id"]))

    def list_accounts(self, *, limit: int) -> list[User]:
        """Up to `limit` accounts, for the daily digest: a paginated query of the accounts
        directory (anonymous users are never in it), then their profiles in batches. Never a
        scan: the cost follows the number of accounts, not the size of the table."""
        user_ids: list[str] = []
        query: dict[str, Any] = {"KeyConditionExpression": Key("PK").eq(keys.ACCOUNTS)}
        for page in pages(self._table.query, query, limit=limit, page_size=_BATCH_GET_MAX):
            user_ids += [str(item["user_id"]) for item in page["Items"]]
        accounts: list[User] = []
        for start in range(0, len(user_ids), _BATCH_GET_MAX):
            accounts += self._profiles(user_ids[start : start + _BATCH_GET_MAX])
        return sorted(accounts, key=lambda user: user.user_id)

    def index_accounts(self) -> int:
        """Write the directory entry of every account made before the directory existed: a
        one-off scan after upgrading a table that already holds accounts. Returns how many."""
        written = 0
        scan: dict[str, Any] = {
            "FilterExpression": "SK = :profile AND attribute_exists(email)",
            "ExpressionAttributeValues": {":profile": keys.PROFILE},
        }
        with self._table.batch_writer() as batch:
            for item in every_item(self._table.scan, scan):
                batch.put_item(Item=account_entry(str(item["user_id"])))
                written += 1
        return written

    def _profiles(self, user_ids: list[str]) -> list[User]:
        request: dict[str, Any] = {
            self._table.name: {"Keys": [keys.user_profile(user_id) for user_id in user_ids]}
        }
        found: list[User] = []
        while request:
            answer = self._table.meta.client.batch_get_item(RequestItems=request)
            found += [
                user_from_item(item) for item in answer["Responses"].get(self._table.name, [])
            ]
            request = dict(answer.get("UnprocessedKeys") or {})
        return found

    def upgrade(self, user: User, *, auth_type: AuthType, email: str | None) -> User:
        """Turn an anonymous user into a full account (optimistic: fails if changed meanwhile).

        An account never expires: the TTL attribute and the expiry entry go in the same
        transaction, and the account joins the directory the digest reads."""
        update: dict[str, Any] = {
            "Update": {
                "Key": keys.user_profile(user.user_id),
                "UpdateExpression": "SET auth_type = :a, email = :e, version = :next "
                "REMOVE expires_at, user_expires_at",
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {
                    ":a": auth_type,
                    ":e": email,
                    ":v": user.version,
                    ":next": user.version + 1,
                },
            }
        }
        operations: list[Any] = [update]
        if user.expires_at is not None:
            entry = keys.anonymous_expiry(iso(user.expires_at), user.user_id)
            operations.append({"Delete": {"Key": entry}})
        if email:
            operations.append(self._email_claim(email, user.user_id))
            operations.append({"Put": {"Item": account_entry(user.user_id)}})
        try:
            transact_write(self._table, operations)
        except ClientError as error:
            if is_condition_failure(error):
                raise ConflictError(f"user {user.user_id} changed or e-mail taken") from error
            raise
        return self.get(user.user_id)

    def _email_claim(self, email: str, user_id: str) -> dict[str, Any]:
        return {
            "Put": {
                "Item": {
                    **keys.email_owner(email_hash(email)),
                    "entity": "email",
                    "user_id": user_id,
                },
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
