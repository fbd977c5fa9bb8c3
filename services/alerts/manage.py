"""Create, list, change and delete alert rules under the account's limits.

Anonymous sessions get basic alerts: sentiment thresholds only, at most
`max_alerts_anonymous`, shown in the app (they have no e-mail address). Accounts may also
set volatility thresholds, up to `max_alerts_account`, and receive e-mails up to
`daily_alert_emails_account` a day.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from services.auth.sessions import Principal
from services.clock import Clock
from services.settings import Settings
from services.store.alerts import AlertRepository
from services.store.configurations import ConfigurationRepository
from services.store.errors import NotFoundError
from services.store.models import Alert, AlertType, Direction

#: Volatility thresholds are ATR as a percentage of price.
MAX_VOLATILITY_PCT = 100.0
#: Thresholds are kept to this many decimals: finer means nothing for a score or a percentage,
#: and a magnitude as small as 1e-290 is beyond what a DynamoDB number can hold.
THRESHOLD_DECIMALS = 6


class InvalidAlertError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AlertNotAllowedError(Exception):
    """The rule is valid but not available to this kind of account (403)."""


@dataclass(frozen=True)
class EmailQuota:
    daily_limit: int
    used_today: int
    resets_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.daily_limit - self.used_today)


@dataclass(frozen=True)
class AlertService:
    alerts: AlertRepository
    configs: ConfigurationRepository
    settings: Settings
    clock: Clock

    def max_alerts(self, principal: Principal) -> int:
        anonymous = principal.user.auth_type == "anonymous"
        return self.settings.max_alerts_anonymous if anonymous else self.settings.max_alerts_account

    def list(self, principal: Principal) -> list[Alert]:
        user_id = principal.user.user_id
        found: list[Alert] = []
        for config in self.configs.list_for_user(user_id):
            found += [
                a for a in self.alerts.list_for_config(config.config_id) if a.user_id == user_id
            ]
        return found

    def create(
        self,
        principal: Principal,
        *,
        config_id: str,
        ticker: str,
        alert_type: AlertType,
        direction: Direction,
        threshold: float,
    ) -> Alert:
        config = self.configs.get(principal.user.user_id, config_id)
        symbol = ticker.strip().upper()
        if symbol not in config.tickers:
            raise InvalidAlertError(
                "ticker", f"{symbol} is not one of configuration {config_id}'s tickers"
            )
        threshold = round(threshold, THRESHOLD_DECIMALS)
        self._check_rule(principal, alert_type, threshold)
        now = self.clock()
        alert = Alert(
            alert_id=str(uuid.uuid4()),
            user_id=principal.user.user_id,
            config_id=config_id,
            ticker=symbol,
            alert_type=alert_type,
            direction=direction,
            threshold=threshold,
            enabled=True,
            created_at=now,
            updated_at=now,
        )
        return self.alerts.put(alert, max_allowed=self.max_alerts(principal))

    def get(self, principal: Principal, alert_id: str) -> Alert:
        for alert in self.list(principal):
            if alert.alert_id == alert_id:
                return alert
        raise NotFoundError(f"alert {alert_id} not found")

    def update(
        self,
        principal: Principal,
        alert_id: str,
        *,
        direction: Direction | None = None,
        threshold: float | None = None,
        enabled: bool | None = None,
    ) -> Alert:
        current = self.get(principal, alert_id)
        changed = replace(
            current,
            direction=direction or current.direction,
            threshold=current.threshold
            if threshold is None
            else round(threshold, THRESHOLD_DECIMALS),
            enabled=current.enabled if enabled is None else enabled,
            updated_at=self.clock(),
        )
        if (changed.direction, changed.threshold) != (current.direction, current.threshold):
            # A new rule as far as crossings go: the next time it holds, it fires.
            changed = replace(changed, in_breach=False)
        self._check_rule(principal, changed.alert_type, changed.threshold)
        return self.alerts.replace(changed)

    def delete(self, principal: Principal, alert_id: str) -> Alert:
        alert = self.get(principal, alert_id)
        self.alerts.delete(alert)
        return alert

    def quota(self, principal: Principal) -> EmailQuota:
        now = self.clock()
        anonymous = principal.user.auth_type == "anonymous" or not principal.user.email
        limit = 0 if anonymous else self.settings.daily_alert_emails_account
        tomorrow = datetime.combine(now.date() + timedelta(days=1), time.min, now.tzinfo)
        return EmailQuota(
            limit, self.alerts.emails_sent(principal.user.user_id, now.date()), tomorrow
        )

    def _check_rule(self, principal: Principal, alert_type: AlertType, threshold: float) -> None:
        if not math.isfinite(threshold):
            raise InvalidAlertError("threshold", "threshold must be a finite number")
        if alert_type == "sentiment_threshold" and not -1.0 <= threshold <= 1.0:
            raise InvalidAlertError("threshold", "a sentiment threshold lies in [-1, 1]")
        if alert_type == "volatility_threshold":
            if principal.user.auth_type == "anonymous":
                raise AlertNotAllowedError(
                    "volatility alerts need an account: sign in with a magic link or Google"
                )
            if not 0.0 < threshold <= MAX_VOLATILITY_PCT:
                raise InvalidAlertError(
                    "threshold", "a volatility threshold is a percentage in (0, 100]"
                )
