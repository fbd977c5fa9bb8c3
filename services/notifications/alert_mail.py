"""Queue the notice of one fired alert: the rule's state and the e-mail change together.

In one transaction: the rule is marked fired (only if still armed and out of its cool-down),
the user's daily e-mail count rises (only under the limit) and the e-mail enters the outbox.
So a crossing seen by two workers fires once, and an e-mail is queued if and only if the
rule fired. An anonymous user (no address) or one who turned alert e-mails off gets the
notice in the app only; a user past the daily limit gets it marked `suppressed`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from services.clock import Clock, iso
from services.notifications.templates import AlertFacts, alert_email
from services.notifications.unsubscribe import link_for
from services.settings import Settings
from services.store.alerts import daily_email_operation, fire_operation
from services.store.errors import NotFoundError
from services.store.models import Alert, Configuration, User
from services.store.outbox import (
    DuplicateEmailError,
    OutboxConditionError,
    OutboxEmail,
)
from services.store.preferences import EmailPreferences

Queued = Literal["queued", "in_app", "suppressed", "not_fired"]


class Users(Protocol):
    def get(self, user_id: str) -> User: ...


class Configurations(Protocol):
    def get(self, user_id: str, config_id: str) -> Configuration: ...


class Preferences(Protocol):
    def get(self, user_id: str) -> EmailPreferences: ...


class Outbox(Protocol):
    def enqueue(self, email: OutboxEmail, *, with_operations: Any = ()) -> None: ...


@dataclass(frozen=True)
class AlertMailer:
    users: Users
    configurations: Configurations
    preferences: Preferences
    outbox: Outbox
    settings: Settings
    clock: Clock

    def fire(self, alert: Alert, value: float) -> Queued:
        """Fire `alert` for the observed `value`; what became of its notice."""
        now = self.clock()
        try:
            user = self.users.get(alert.user_id)
            config = self.configurations.get(alert.user_id, alert.config_id)
        except NotFoundError:
            # The user or the watchlist is gone (deleted configurations keep their rules).
            return "not_fired"
        state = self._state_for(user)
        email = self._compose(alert, value, user, config, state, now)
        cooldown = timedelta(seconds=self.settings.alert_cooldown_s)
        fired = fire_operation(alert, now, cooldown)
        operations = [fired]
        if state == "queued":
            keep = timedelta(days=2)
            limit = self.settings.daily_alert_emails_account
            operations.append(daily_email_operation(alert.user_id, now.date(), limit, keep))
        try:
            self.outbox.enqueue(email, with_operations=operations)
        except DuplicateEmailError:
            return "not_fired"
        except OutboxConditionError as error:
            if error.index == 0:
                return "not_fired"  # fired already, disabled, or cooling down
            # Past the user's daily limit: the notice is kept, the e-mail is not sent.
            suppressed = replace(email, state="suppressed", sent_at=now)
            try:
                self.outbox.enqueue(suppressed, with_operations=[fired])
            except (DuplicateEmailError, OutboxConditionError):
                return "not_fired"
            return "suppressed"
        return state

    def _state_for(self, user: User) -> Literal["queued", "in_app"]:
        if not user.email or user.auth_type == "anonymous":
            return "in_app"
        if not self.preferences.get(user.user_id).alert_emails:
            return "in_app"
        return "queued"

    def _compose(
        self,
        alert: Alert,
        value: float,
        user: User,
        config: Configuration,
        state: Literal["queued", "in_app"],
        now: datetime,
    ) -> OutboxEmail:
        settings = self.settings
        unsubscribe = link_for(settings, user.user_id, "alerts")
        composed = alert_email(
            AlertFacts(
                ticker=alert.ticker,
                alert_type=alert.alert_type,
                direction=alert.direction,
                threshold=alert.threshold,
                value=value,
                configuration_name=config.name,
                dashboard_url=settings.magic_link_url,
                unsubscribe_url=unsubscribe,
            )
        )
        return OutboxEmail(
            idempotency_key=f"alert:{alert.alert_id}:{iso(now)}",
            kind="alert",
            user_id=user.user_id,
            to=user.email if state == "queued" else None,
            subject=composed.subject,
            text=composed.text,
            html=composed.html,
            priority=False,
            state=state,
            created_at=now,
            deliver_by=now + timedelta(seconds=settings.email_delivery_deadline_s),
            next_attempt_at=now,
            sent_at=None if state == "queued" else now,
            details={
                "alert_id": alert.alert_id,
                "config_id": alert.config_id,
                "ticker": alert.ticker,
                "alert_type": alert.alert_type,
                "direction": alert.direction,
                "threshold": alert.threshold,
                "value": round(value, 4),
            },
        )
