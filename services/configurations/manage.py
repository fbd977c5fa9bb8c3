"""Create, read, update and soft-delete configurations under the business rules.

Rules: a name of 1-50 characters; 1 to `max_tickers_per_config` tickers, each listed on the
exchange list (an unknown one is named in the error); at most 1 configuration for an anonymous
session and 2 for a full account, enforced by the store in the same transaction as the write.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from services.auth.sessions import Principal, limits_for
from services.clock import Clock
from services.market.universe import TickerUniverse
from services.settings import Settings
from services.store.configurations import ConfigurationRepository
from services.store.models import Configuration

MAX_NAME_LENGTH = 50


class InvalidConfigurationError(ValueError):
    """The request breaks a rule; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ConfigurationService:
    configs: ConfigurationRepository
    universe: TickerUniverse
    settings: Settings
    clock: Clock

    def list(self, principal: Principal) -> list[Configuration]:
        return self.configs.list_for_user(principal.user.user_id)

    def max_allowed(self, principal: Principal) -> int:
        return limits_for(principal.user, self.settings).max_configurations

    def get(self, principal: Principal, config_id: str) -> Configuration:
        # Keys are scoped by the caller's user id: another user's id is simply "not found".
        return self.configs.get(principal.user.user_id, config_id)

    def create(self, principal: Principal, name: str, tickers: Sequence[str]) -> Configuration:
        now = self.clock()
        config = Configuration(
            config_id=str(uuid.uuid4()),
            user_id=principal.user.user_id,
            name=self._name(name),
            tickers=self._tickers(tickers),
            created_at=now,
            updated_at=now,
        )
        return self.configs.create(config, max_allowed=self.max_allowed(principal))

    def update(
        self,
        principal: Principal,
        config_id: str,
        *,
        name: str | None = None,
        tickers: Sequence[str] | None = None,
    ) -> Configuration:
        current = self.get(principal, config_id)
        changed = replace(
            current,
            name=self._name(name) if name is not None else current.name,
            tickers=self._tickers(tickers) if tickers is not None else current.tickers,
            updated_at=self.clock(),
        )
        return self.configs.update(changed, expected_version=current.version)

    def delete(self, principal: Principal, config_id: str) -> Configuration:
        return self.configs.soft_delete(principal.user.user_id, config_id, self.clock())

    def _name(self, name: str) -> str:
        cleaned = name.strip()
        if not 1 <= len(cleaned) <= MAX_NAME_LENGTH:
            raise InvalidConfigurationError(
                "name", f"name must be 1 to {MAX_NAME_LENGTH} characters"
            )
        return cleaned

    def _tickers(self, tickers: Sequence[str]) -> tuple[str, ...]:
        symbols = list(dict.fromkeys(t.strip().upper() for t in tickers))
        limit = self.settings.max_tickers_per_config
        if not 1 <= len(symbols) <= limit:
            raise InvalidConfigurationError(
                "tickers", f"a configuration holds 1 to {limit} distinct tickers"
            )
        unknown = [s for s in symbols if not self.universe.is_listed(s)]
        if unknown:
            raise InvalidConfigurationError(
                "tickers", f"unknown ticker(s): {', '.join(unknown)} (not on the exchange list)"
            )
        return tuple(symbols)
