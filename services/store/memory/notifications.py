"""Alert rules, e-mail preferences and the outbox in memory.

They share what the table shares: an alert's fired state and a user's daily e-mail count are
written by the outbox's transaction (`enqueue(..., with_operations=...)`), so the outbox is
built on the alert repository and applies those entries to it, all or none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from services.clock import parse_iso
from services.store import keys
from services.store.errors import LimitReachedError, NotFoundError
from services.store.memory.accounts import InMemoryUserRepository
from services.store.models import Alert
from services.store.outbox import (
    EMAIL_STATES,
    DuplicateEmailError,
    OutboxConditionError,
    OutboxEmail,
)
from services.store.preferences import EmailPreferences

# The sort key prefix of a user's daily e-mail counter (`keys.user_email_count`).
_EMAIL_COUNT_PREFIX = "EMAILS#"


@dataclass(frozen=True, slots=True)
class _PendingWrite:
    """One entry of a transaction: whether its condition holds now, and the write itself."""

    holds: bool
    apply: Callable[[], None]


class InMemoryAlertRepository:
    """Rules by (configuration, id); the per-user rule count and the daily e-mail counters
    that the table keeps under the user's partition."""

    def __init__(self, users: InMemoryUserRepository) -> None:
        self.users = users
        self.alerts: dict[tuple[str, str], Alert] = {}
        self.alert_counts: dict[str, int] = {}
        self.email_counts: dict[tuple[str, str], int] = {}
        self._lock = threading.RLock()

    def put(self, alert: Alert, *, max_allowed: int) -> Alert:
        with self._lock:
            count = self.alert_counts.get(alert.user_id, 0)
            # As in the table's transaction: a missing user, a full allowance or a taken id
            # all fail its conditions alike.
            if (
                alert.user_id not in self.users.users
                or count >= max_allowed
                or (alert.config_id, alert.alert_id) in self.alerts
            ):
                raise LimitReachedError(f"maximum of {max_allowed} alert(s) reached")
            self.alerts[(alert.config_id, alert.alert_id)] = alert
            self.alert_counts[alert.user_id] = count + 1
        return alert

    def get(self, user_id: str, config_id: str, alert_id: str) -> Alert:
        alert = self.alerts.get((config_id, alert_id))
        # Owned by someone else reads exactly like absent.
        if alert is None or alert.user_id != user_id:
            raise NotFoundError(f"alert {alert_id} not found")
        return alert

    def list_for_config(self, config_id: str) -> list[Alert]:
        found = [a for (owner, _), a in self.alerts.items() if owner == config_id]
        return sorted(found, key=lambda a: a.created_at)

    def replace(self, alert: Alert) -> Alert:
        with self._lock:
            self.get(alert.user_id, alert.config_id, alert.alert_id)
            self.alerts[(alert.config_id, alert.alert_id)] = alert
        return alert

    def delete(self, alert: Alert) -> None:
        with self._lock:
            self.get(alert.user_id, alert.config_id, alert.alert_id)
            if self.alert_counts.get(alert.user_id, 0) <= 0:
                raise NotFoundError(f"alert {alert.alert_id} not found")
            del self.alerts[(alert.config_id, alert.alert_id)]
            self.alert_counts[alert.user_id] -= 1

    def emails_sent(self, user_id: str, day: date) -> int:
        return self.email_counts.get((user_id, day.isoformat()), 0)

    def list_for_ticker(self, ticker: str) -> list[Alert]:
        found = [a for a in self.alerts.values() if a.ticker == ticker]
        return sorted(found, key=lambda a: a.created_at)

    def rearm(self, alert: Alert) -> None:
        with self._lock:
            current = self.alerts.get((alert.config_id, alert.alert_id))
            if current is not None and current.in_breach:
                self.alerts[(alert.config_id, alert.alert_id)] = replace(current, in_breach=False)

    def forget_user(self, user_id: str, config_ids: Sequence[str]) -> None:
        """Drop the user's own rules on `config_ids` and its e-mail counters (the user is
        being retired); rules others made on those configurations stay."""
        with self._lock:
            for key, alert in list(self.alerts.items()):
                if alert.config_id in config_ids and alert.user_id == user_id:
                    del self.alerts[key]
            self.alert_counts.pop(user_id, None)
            for key in [k for k in self.email_counts if k[0] == user_id]:
                del self.email_counts[key]

    def pending_write(self, entry: Mapping[str, Any]) -> _PendingWrite:
        """The transaction entry `fire_operation` or `daily_email_operation` built, as a
        condition and a write on this repository's state."""
        update = entry["Update"]
        sort_key = str(update["Key"]["SK"])
        values = update["ExpressionAttributeValues"]
        if sort_key.startswith(keys.ALERT_PREFIX):
            config_id = str(update["Key"]["PK"]).removeprefix(keys.CONFIG_PREFIX)
            alert_id = sort_key.removeprefix(keys.ALERT_PREFIX)
            return self._fire(config_id, alert_id, values)
        if sort_key.startswith(_EMAIL_COUNT_PREFIX):
            user_id = str(update["Key"]["PK"]).removeprefix(keys.user_pk(""))
            day = sort_key.removeprefix(_EMAIL_COUNT_PREFIX)
            return self._count_email(user_id, day, int(values[":limit"]))
        raise ValueError(f"no in-memory form of the transaction entry on {update['Key']}")

    def _fire(self, config_id: str, alert_id: str, values: Mapping[str, Any]) -> _PendingWrite:
        now, cooled = parse_iso(str(values[":now"])), parse_iso(str(values[":cooled"]))
        alert = self.alerts.get((config_id, alert_id))
        holds = (
            alert is not None
            and alert.enabled
            and not alert.in_breach
            and (alert.last_triggered_at is None or alert.last_triggered_at <= cooled)
        )

        def fire() -> None:
            assert alert is not None
            self.alerts[(config_id, alert_id)] = replace(
                alert, in_breach=True, last_triggered_at=now
            )

        return _PendingWrite(holds, fire)

    def _count_email(self, user_id: str, day: str, limit: int) -> _PendingWrite:
        sent = self.email_counts.get((user_id, day), 0)

        def count() -> None:
            self.email_counts[(user_id, day)] = sent + 1

        return _PendingWrite(sent < limit, count)


class InMemoryPreferenceRepository:
    def __init__(self) -> None:
        self.preferences: dict[str, EmailPreferences] = {}

    def get(self, user_id: str) -> EmailPreferences:
        return self.preferences.get(user_id, EmailPreferences())

    def update(
        self,
        user_id: str,
        now: datetime,
        *,
        alert_emails: bool | None = None,
        digest_emails: bool | None = None,
    ) -> EmailPreferences:
        current = self.get(user_id)
        updated = EmailPreferences(
            alert_emails=current.alert_emails if alert_emails is None else alert_emails,
            digest_emails=current.digest_emails if digest_emails is None else digest_emails,
        )
        self.preferences[user_id] = updated
        return updated


class InMemoryOutbox:
    """`DynamoOutbox` in memory: state changes conditional on the state and attempt read, and
    on no acceptance recorded since, under one lock as the table's conditions are."""

    def __init__(
        self,
        alerts: InMemoryAlertRepository | None = None,
        *,
        keep_history: timedelta = timedelta(days=30),
    ) -> None:
        self.alerts = alerts
        self.emails: dict[str, OutboxEmail] = {}
        # Kept for the same signature as the table's; nothing here expires on its own.
        self.keep_history = keep_history
        self._lock = threading.Lock()

    def enqueue(
        self, email: OutboxEmail, *, with_operations: Sequence[dict[str, Any]] = ()
    ) -> None:
        with self._lock:
            if email.email_id in self.emails:
                raise DuplicateEmailError(email.email_id)
            writes = [self._pending_write(entry) for entry in with_operations]
            for index, write in enumerate(writes):
                if not write.holds:
                    raise OutboxConditionError(index)
            for write in writes:
                write.apply()
            self.emails[email.email_id] = email

    def _pending_write(self, entry: Mapping[str, Any]) -> _PendingWrite:
        if self.alerts is None:
            raise ValueError("this outbox was built without the alert repository")
        return self.alerts.pending_write(entry)

    def get(self, email_id: str) -> OutboxEmail | None:
        return self.emails.get(email_id)

    def due(self, now: datetime, *, limit: int = 50) -> list[OutboxEmail]:
        found: list[OutboxEmail] = []
        # One bounded read per state, in queue order, as the index is read.
        for state in ("queued", "sending"):
            waiting = [e for e in self.emails.values() if e.state == state and e.queue_time <= now]
            found += sorted(waiting, key=lambda e: e.queue_time)[:limit]
        found.sort(key=lambda e: (not e.priority, e.next_attempt_at))
        return found[:limit]

    def claim(self, email: OutboxEmail, now: datetime, lease: timedelta) -> OutboxEmail | None:
        claimed = replace(
            email, state="sending", attempts=email.attempts + 1, next_attempt_at=now + lease
        )
        return claimed if self._move(email, claimed) else None

    def record_acceptance(
        self, claimed: OutboxEmail, message_id: str | None, at: datetime
    ) -> OutboxEmail | None:
        with self._lock:
            stored = self.emails.get(claimed.email_id)
            if stored is None or (stored.state, stored.attempts) != (
                claimed.state,
                claimed.attempts,
            ):
                return None
            message = message_id or stored.provider_message_id
            self.emails[claimed.email_id] = replace(
                stored, accepted_at=at, provider_message_id=message
            )
        return replace(
            claimed, accepted_at=at, provider_message_id=message_id or claimed.provider_message_id
        )

    def settle(self, claimed: OutboxEmail, outcome: OutboxEmail) -> bool:
        return self._move(claimed, outcome)

    def list_for_user(self, user_id: str, *, limit: int = 50) -> list[OutboxEmail]:
        mine = [e for e in self.emails.values() if e.user_id == user_id]
        # The history index's order (newest in the queue first), bounded, then by creation.
        newest = sorted(mine, key=lambda e: e.queue_time, reverse=True)[:limit]
        return sorted(newest, key=lambda e: e.created_at, reverse=True)

    def count_by_state(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(EMAIL_STATES, 0)
        for email in self.emails.values():
            counts[email.state] += 1
        return counts

    def _move(self, current: OutboxEmail, changed: OutboxEmail) -> bool:
        with self._lock:
            stored = self.emails.get(current.email_id)
            if stored is None or (stored.state, stored.attempts) != (
                current.state,
                current.attempts,
            ):
                return False
            if current.accepted_at is None and stored.accepted_at is not None:
                return False
            self.emails[current.email_id] = changed
        return True
