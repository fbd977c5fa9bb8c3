"""Retiring expired anonymous users in memory, over the repositories that hold what they own."""

from __future__ import annotations

from datetime import datetime

from services.clock import iso
from services.store.anonymous_users import DueAnonymousUser
from services.store.memory.accounts import (
    InMemoryConfigurationRepository,
    InMemorySessionRepository,
)
from services.store.memory.notifications import (
    InMemoryAlertRepository,
    InMemoryPreferenceRepository,
)


class InMemoryAnonymousUserStore:
    """`DynamoAnonymousUserStore` in memory. The table's expiry entries are read here from the
    users themselves (an anonymous user with an expiry), ordered as their sort keys are; an
    entry left behind by a sign-in racing its own write has no counterpart here."""

    def __init__(
        self,
        configurations: InMemoryConfigurationRepository,
        sessions: InMemorySessionRepository,
        alerts: InMemoryAlertRepository,
        preferences: InMemoryPreferenceRepository,
    ) -> None:
        self.configurations = configurations
        self.users = configurations.users
        self.sessions = sessions
        self.alerts = alerts
        self.preferences = preferences

    def due(self, now: datetime, *, limit: int) -> list[DueAnonymousUser]:
        entries = sorted(
            f"{iso(user.expires_at)}#{user.user_id}"
            for user in self.users.users.values()
            if user.auth_type == "anonymous" and user.expires_at is not None
        )
        due = [entry for entry in entries if entry < iso(now)][:limit]
        return [DueAnonymousUser(entry.rsplit("#", 1)[1], entry) for entry in due]

    def retire(self, due: DueAnonymousUser, now: datetime) -> bool:
        user = self.users.users.get(due.user_id)
        wanted = user is not None and (
            user.auth_type != "anonymous" or user.expires_at is None or user.expires_at > now
        )
        if not wanted:
            self._purge(due.user_id)
        return not wanted

    def _purge(self, user_id: str) -> None:
        owned = [key for key in self.configurations.configs if key[0] == user_id]
        # Deleting the configurations gives back their watcher counts: tracked tickers are
        # read from the live configurations.
        for key in owned:
            del self.configurations.configs[key]
        self.alerts.forget_user(user_id, [config_id for _, config_id in owned])
        self.preferences.preferences.pop(user_id, None)
        for token_hash, session in list(self.sessions.by_token.items()):
            if session.user_id == user_id:
                del self.sessions.by_token[token_hash]
        self.users.users.pop(user_id, None)
