"""The e-mail outbox: every e-mail the service means to send, from queued to delivered.

One item per e-mail (`OUTBOX#{email_id} | EMAIL`), its id derived from an idempotency key,
so asking twice to send the same e-mail stores it once. Two sparse indexes serve its reads:

- `by_status` (`status` = `email_<state>`, ordered by `timestamp`): the queue. A queued
  e-mail's timestamp is when it is next due; a claimed one's is when its claim runs out, so
  an e-mail whose sender died is found due again. Final states count e-mails for metrics.
- `by_tag` (`tag` = `NOTIFY#{user_id}`): one user's notification history.

State changes are conditional on the state they leave, so two senders can never both claim,
send or settle the same e-mail.

`accepted_at` records that SendGrid accepted the e-mail (its 202, with `X-Message-Id` kept as
`provider_message_id`). It is written on its own, right after the 202 and before the e-mail
is settled, and a state change from a copy that does not have it is refused: a claim taken
from a stale read cannot wipe it, and an e-mail with it is settled as sent, never sent again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from services.clock import epoch_seconds, iso, parse_iso
from services.store import keys
from services.store.items import (
    Item,
    cancellation_codes,
    is_condition_failure,
    opt_iso,
    opt_time,
    to_decimal,
    transact_write,
    without_nones,
)
from services.store.pages import pages
from services.store.schema import BY_STATUS, BY_TAG

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

EmailKind = Literal["alert", "digest", "magic_link"]
EmailState = Literal["queued", "sending", "sent", "failed", "expired", "suppressed", "in_app"]
EMAIL_STATES: tuple[EmailState, ...] = get_args(EmailState)
# States that end an e-mail's life in the queue.
FINAL_STATES: frozenset[EmailState] = frozenset(
    {"sent", "failed", "expired", "suppressed", "in_app"}
)
STATUS_PREFIX = "email_"
NOTIFY_TAG_PREFIX = "NOTIFY#"


def email_id_for(idempotency_key: str) -> str:
    """The e-mail's id: the same key always names the same e-mail."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def status_value(state: EmailState) -> str:
    return f"{STATUS_PREFIX}{state}"


def notify_tag(user_id: str) -> str:
    return f"{NOTIFY_TAG_PREFIX}{user_id}"


@dataclass(frozen=True, slots=True)
class OutboxEmail:
    idempotency_key: str
    kind: EmailKind
    user_id: str | None
    to: str | None
    subject: str
    text: str
    created_at: datetime
    deliver_by: datetime
    next_attempt_at: datetime
    html: str | None = None
    priority: bool = False
    state: EmailState = "queued"
    attempts: int = 0
    sent_at: datetime | None = None
    provider_message_id: str | None = None
    # When SendGrid accepted it: from then on it is sent, whatever its state still says.
    accepted_at: datetime | None = None
    last_error: str | None = None
    # What the e-mail is about (ticker, score, direction, alert id), for the history.
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def email_id(self) -> str:
        return email_id_for(self.idempotency_key)

    @property
    def queue_time(self) -> datetime:
        """The index order: when it is due (queued), when its claim ends, or when it ended."""
        if self.state in ("queued", "sending"):
            return self.next_attempt_at
        return self.sent_at or self.next_attempt_at


def email_to_item(email: OutboxEmail, keep_for: timedelta) -> Item:
    return without_nones(
        {
            **keys.outbox_email(email.email_id),
            "entity": "outbox_email",
            "email_id": email.email_id,
            "idempotency_key": email.idempotency_key,
            "kind": email.kind,
            "user_id": email.user_id,
            "to": email.to,
            "subject": email.subject,
            "text": email.text,
            "html": email.html,
            "priority": email.priority,
            "state": email.state,
            "attempts": email.attempts,
            "created_at": iso(email.created_at),
            "deliver_by": iso(email.deliver_by),
            "next_attempt_at": iso(email.next_attempt_at),
            "sent_at": opt_iso(email.sent_at),
            "provider_message_id": email.provider_message_id,
            "accepted_at": opt_iso(email.accepted_at),
            "last_error": email.last_error,
            "details": _decimals(email.details) or None,
            BY_STATUS.partition_key: status_value(email.state),
            BY_STATUS.sort_key: iso(email.queue_time),
            BY_TAG.partition_key: notify_tag(email.user_id) if email.user_id else None,
            # Kept as the user's history after its last possible delivery.
            "expires_at": epoch_seconds(email.deliver_by + keep_for),
        }
    )


def email_from_item(item: dict[str, Any]) -> OutboxEmail:
    return OutboxEmail(
        idempotency_key=str(item["idempotency_key"]),
        kind=item["kind"],
        user_id=str(item["user_id"]) if item.get("user_id") else None,
        to=str(item["to"]) if item.get("to") else None,
        subject=str(item["subject"]),
        text=str(item["text"]),
        html=str(item["html"]) if item.get("html") else None,
        priority=bool(item.get("priority", False)),
        state=item["state"],
        attempts=int(item.get("attempts", 0)),
        created_at=parse_iso(str(item["created_at"])),
        deliver_by=parse_iso(str(item["deliver_by"])),
        next_attempt_at=parse_iso(str(item["next_attempt_at"])),
        sent_at=opt_time(item.get("sent_at")),
        provider_message_id=item.get("provider_message_id"),
        accepted_at=opt_time(item.get("accepted_at")),
        last_error=item.get("last_error"),
        details=_plain(item.get("details") or {}),
    )


def _decimals(value: Any) -> Any:
    """Floats as Decimals: the table takes no floats."""
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, float):
        return to_decimal(value)
    return value


def _plain(value: Any) -> Any:
    """Table numbers come back as Decimal: make them floats (ints when whole)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "as_integer_ratio") and not isinstance(value, bool | int | float):
        number = float(value)
        return int(number) if number.is_integer() else number
    return value


class DuplicateEmailError(Exception):
    """An e-mail with this idempotency key is already in the outbox."""


class OutboxConditionError(Exception):
    """One of the operations written with the e-mail had its condition fail.

    `index` is that operation's position among the extra operations passed to `enqueue`.
    """

    def __init__(self, index: int) -> None:
        super().__init__(f"condition of operation {index} failed")
        self.index = index


class OutboxStore(Protocol):
    def enqueue(
        self, email: OutboxEmail, *, with_operations: Sequence[dict[str, Any]] = ()
    ) -> None: ...
    def get(self, email_id: str) -> OutboxEmail | None: ...
    def due(self, now: datetime, *, limit: int = 50) -> list[OutboxEmail]: ...
    def claim(self, email: OutboxEmail, now: datetime, lease: timedelta) -> OutboxEmail | None: ...
    def record_acceptance(
        self, claimed: OutboxEmail, message_id: str | None, at: datetime
    ) -> OutboxEmail | None: ...
    def settle(self, claimed: OutboxEmail, outcome: OutboxEmail) -> bool: ...
    def list_for_user(self, user_id: str, *, limit: int = 50) -> list[OutboxEmail]: ...
    def count_by_state(self) -> dict[str, int]: ...


class DynamoOutbox:
    def __init__(self, table: Table, *, keep_history: timedelta = timedelta(days=30)) -> None:
        self._table = table
        self._keep = keep_history

    def enqueue(
        self, email: OutboxEmail, *, with_operations: Sequence[dict[str, Any]] = ()
    ) -> None:
        """Store `email` with `with_operations` (TransactWriteItems entries) atomically.

        Raises `DuplicateEmailError` when the e-mail is already stored (nothing is written)
        and `OutboxConditionError` when one of the other operations' conditions failed.
        """
        item = email_to_item(email, self._keep)
        condition = "attribute_not_exists(PK)"
        operations = [{"Put": {"Item": item, "ConditionExpression": condition}}, *with_operations]
        try:
            if len(operations) == 1:
                self._table.put_item(Item=item, ConditionExpression=condition)
            else:
                transact_write(self._table, operations)
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            codes = cancellation_codes(error) or ["ConditionalCheckFailed"]
            if codes[0] == "ConditionalCheckFailed":
                raise DuplicateEmailError(email.email_id) from None
            failed = next(i for i, c in enumerate(codes) if c == "ConditionalCheckFailed")
            raise OutboxConditionError(failed - 1) from None

    def get(self, email_id: str) -> OutboxEmail | None:
        item = self._table.get_item(Key=keys.outbox_email(email_id), ConsistentRead=True).get(
            "Item"
        )
        return email_from_item(item) if item else None

    def due(self, now: datetime, *, limit: int = 50) -> list[OutboxEmail]:
        """Queued e-mails whose time has come, and claimed ones whose claim ran out."""
        found: list[OutboxEmail] = []
        for state in ("queued", "sending"):
            response = self._table.query(
                IndexName=BY_STATUS.name,
                KeyConditionExpression=Key(BY_STATUS.partition_key).eq(status_value(state))
                & Key(BY_STATUS.sort_key).lte(iso(now)),
                Limit=limit,
            )
            found += [email_from_item(i) for i in response["Items"]]
        found.sort(key=lambda e: (not e.priority, e.next_attempt_at))
        return found[:limit]

    def claim(self, email: OutboxEmail, now: datetime, lease: timedelta) -> OutboxEmail | None:
        """Take `email` for sending until `now + lease`; None when another sender has it."""
        claimed = replace(
            email, state="sending", attempts=email.attempts + 1, next_attempt_at=now + lease
        )
        return claimed if self._move(email, claimed) else None

    def record_acceptance(
        self, claimed: OutboxEmail, message_id: str | None, at: datetime
    ) -> OutboxEmail | None:
        """Record that the provider accepted the claimed e-mail; None when the claim was lost.

        A small update of two attributes, not the whole item, so it is the write most
        likely to succeed in the moment after the provider's answer."""
        values: dict[str, Any] = {
            ":state": claimed.state,
            ":attempts": claimed.attempts,
            ":accepted_at": iso(at),
        }
        update = "SET accepted_at = :accepted_at"
        if message_id:
            update += ", provider_message_id = :message_id"
            values[":message_id"] = message_id
        try:
            self._table.update_item(
                Key=keys.outbox_email(claimed.email_id),
                UpdateExpression=update,
                ConditionExpression="#state = :state AND attempts = :attempts",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        return replace(
            claimed,
            accepted_at=at,
            provider_message_id=message_id or claimed.provider_message_id,
        )

    def settle(self, claimed: OutboxEmail, outcome: OutboxEmail) -> bool:
        """Record what happened to a claimed e-mail (sent, rescheduled or given up)."""
        return self._move(claimed, outcome)

    def list_for_user(self, user_id: str, *, limit: int = 50) -> list[OutboxEmail]:
        response = self._table.query(
            IndexName=BY_TAG.name,
            KeyConditionExpression=Key(BY_TAG.partition_key).eq(notify_tag(user_id)),
            ScanIndexForward=False,
            Limit=limit,
        )
        emails = [email_from_item(i) for i in response["Items"]]
        return sorted(emails, key=lambda e: e.created_at, reverse=True)

    def count_by_state(self) -> dict[str, int]:
        """How many e-mails are in each state (one COUNT query per state)."""
        counts: dict[str, int] = {}
        for state in EMAIL_STATES:
            query: dict[str, Any] = {
                "IndexName": BY_STATUS.name,
                "KeyConditionExpression": Key(BY_STATUS.partition_key).eq(status_value(state)),
                "Select": "COUNT",
            }
            counts[state] = sum(int(page["Count"]) for page in pages(self._table.query, query))
        return counts

    def _move(self, current: OutboxEmail, changed: OutboxEmail) -> bool:
        """Replace the item only if it is still in `current`'s state and attempt, and, when
        `current` knows of no acceptance, none was recorded since it was read."""
        condition = "#state = :state AND attempts = :attempts"
        if current.accepted_at is None:
            condition += " AND attribute_not_exists(accepted_at)"
        try:
            self._table.put_item(
                Item=email_to_item(changed, self._keep),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":state": current.state,
                    ":attempts": current.attempts,
                },
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True
