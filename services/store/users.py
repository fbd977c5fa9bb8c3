"""Users: profiles and the unique e-mail index."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from services.clock import iso, parse_iso
from services.store import keys
from services.store.errors import ConflictError, NotFoundError
from services.store.items import Item, is_condition_failure, transact_write, without_nones
from services.store.models import AuthType, User

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
    )


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
        if user.email:
            operations.append(self._email_claim(user.email, user.user_id))
        try:
            transact_write(self._table, operations)
        except ClientError as error:
            if is_condition_failure(error):
                raise ConflictError("user or e-mail already exists") from error
            raise
        return user

    def get(self, user_id: str) -> User:
        item = self._table.get_item(Key=keys.user_profile(user_id)).get("Item")
        if item is None:
            raise NotFoundError(f"user {user_id} not found")
        return user_from_item(item)

    def find_by_email(self, email: str) -> User | None:
        owner = self._table.get_item(Key=keys.email_owner(email_hash(email))).get("Item")
        if owner is None:
            return None
        return self.get(str(owner["user_id"]))

    def list_accounts(self) -> list[User]:
        """Every user with an e-mail address, for the daily digest. A paginated scan: it runs
        once a day, and a dedicated index would cost a write on every sign-in instead."""
        accounts: list[User] = []
        scan: dict[str, Any] = {
            "FilterExpression": "SK = :profile AND attribute_exists(email)",
            "ExpressionAttributeValues": {":profile": keys.PROFILE},
        }
        while True:
            page = self._table.scan(**scan)
            accounts += [user_from_item(item) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return accounts
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def upgrade(self, user: User, *, auth_type: AuthType, email: str | None) -> User:
        """Turn an anonymous user into a full account (optimistic: fails if changed meanwhile)."""
        update: dict[str, Any] = {
            "Update": {
                "Key": keys.user_profile(user.user_id),
                "UpdateExpression": "SET auth_type = :a, email = :e, version = :next",
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
        if email:
            operations.append(self._email_claim(email, user.user_id))
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
