"""Users, sessions, single-use tokens and configurations in memory."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from services.store.errors import (
    ConflictError,
    LimitReachedError,
    NotFoundError,
    TokenExpiredError,
    TokenUsedError,
)
from services.store.models import AuthType, Configuration, Session, SingleUseToken, User
from services.store.users import email_hash


class InMemoryUserRepository:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.emails: dict[str, str] = {}
        self._lock = threading.Lock()

    def create(self, user: User) -> User:
        with self._lock:
            if user.user_id in self.users:
                raise ConflictError("user or e-mail already exists")
            if user.email and email_hash(user.email) in self.emails:
                raise ConflictError("user or e-mail already exists")
            self.users[user.user_id] = user
            if user.email:
                self.emails[email_hash(user.email)] = user.user_id
        return user

    def get(self, user_id: str) -> User:
        if user_id not in self.users:
            raise NotFoundError(f"user {user_id} not found")
        return self.users[user_id]

    def find_by_email(self, email: str) -> User | None:
        owner = self.emails.get(email_hash(email))
        return self.users.get(owner) if owner else None

    def upgrade(self, user: User, *, auth_type: AuthType, email: str | None) -> User:
        with self._lock:
            current = self.get(user.user_id)
            taken = email is not None and email_hash(email) in self.emails
            if current.version != user.version or taken:
                raise ConflictError(f"user {user.user_id} changed or e-mail taken")
            # An account never expires.
            upgraded = replace(
                current,
                auth_type=auth_type,
                email=email,
                version=current.version + 1,
                expires_at=None,
            )
            self.users[user.user_id] = upgraded
            if email:
                self.emails[email_hash(email)] = user.user_id
        return upgraded

    def list_accounts(self, *, limit: int) -> list[User]:
        accounts = sorted(
            (u for u in self.users.values() if u.email and u.auth_type != "anonymous"),
            key=lambda user: user.user_id,
        )
        return accounts[:limit]

    def set_config_count(self, user_id: str, delta: int, max_allowed: int | None) -> None:
        with self._lock:
            user = self.get(user_id)
            if max_allowed is not None and user.config_count >= max_allowed:
                raise LimitReachedError(f"maximum of {max_allowed} configuration(s) reached")
            self.users[user_id] = replace(user, config_count=user.config_count + delta)


class InMemorySessionRepository:
    def __init__(self) -> None:
        self.by_token: dict[str, Session] = {}

    def create(self, session: Session) -> Session:
        if session.token_hash in self.by_token:
            raise ConflictError("session or token already exists")
        self.by_token[session.token_hash] = session
        return session

    def find_by_token_hash(self, token_hash: str, now: datetime) -> Session | None:
        session = self.by_token.get(token_hash)
        return session if session is not None and session.is_active(now) else None

    def revoke(self, session: Session, now: datetime) -> Session:
        current = self.by_token.get(session.token_hash)
        if current is None or current.revoked_at is not None:
            raise NotFoundError("session already revoked or gone")
        revoked = replace(current, revoked_at=now)
        self.by_token[session.token_hash] = revoked
        return revoked

    def list_for_user(self, user_id: str, now: datetime) -> list[Session]:
        return [s for s in self.by_token.values() if s.user_id == user_id and s.is_active(now)]


class InMemoryTokenRepository:
    def __init__(self) -> None:
        self.tokens: dict[str, SingleUseToken] = {}
        self._lock = threading.Lock()

    def put(self, token: SingleUseToken) -> SingleUseToken:
        if token.token_hash in self.tokens:
            raise ConflictError("token already exists")
        self.tokens[token.token_hash] = token
        return token

    def consume(self, token_hash: str, kind: str, now: datetime) -> SingleUseToken:
        with self._lock:
            token = self.tokens.get(token_hash)
            if token is None or token.kind != kind:
                raise NotFoundError("unknown token")
            if token.used_at is not None:
                raise TokenUsedError("token already used")
            if token.expires_at <= now:
                raise TokenExpiredError("token expired")
            consumed = replace(token, used_at=now)
            self.tokens[token_hash] = consumed
        return consumed

    def peek(self, token_hash: str, kind: str, now: datetime) -> SingleUseToken:
        token = self.tokens.get(token_hash)
        if token is None or token.kind != kind:
            raise NotFoundError("unknown token")
        if token.used_at is not None:
            raise TokenUsedError("token already used")
        if token.expires_at <= now:
            raise TokenExpiredError("token expired")
        return token


class InMemoryConfigurationRepository:
    """Shares the user fake so the per-user count behaves like the profile counter."""

    def __init__(self, users: InMemoryUserRepository) -> None:
        self.users = users
        self.configs: dict[tuple[str, str], Configuration] = {}

    def create(self, config: Configuration, *, max_allowed: int) -> Configuration:
        key = (config.user_id, config.config_id)
        if key in self.configs:
            raise ConflictError("configuration already exists")
        self.users.set_config_count(config.user_id, +1, max_allowed)
        self.configs[key] = config
        return config

    def get(self, user_id: str, config_id: str) -> Configuration:
        config = self.configs.get((user_id, config_id))
        if config is None or config.deleted_at is not None:
            raise NotFoundError(f"configuration {config_id} not found")
        return config

    def list_for_user(self, user_id: str) -> list[Configuration]:
        found = [
            c for (owner, _), c in self.configs.items() if owner == user_id and c.deleted_at is None
        ]
        return sorted(found, key=lambda c: c.created_at)

    def update(self, config: Configuration, *, expected_version: int) -> Configuration:
        current = self.get(config.user_id, config.config_id)
        if current.version != expected_version:
            raise ConflictError(f"configuration {config.config_id} changed since it was read")
        updated = replace(config, version=expected_version + 1)
        self.configs[(config.user_id, config.config_id)] = updated
        return updated

    def soft_delete(self, user_id: str, config_id: str, now: datetime) -> Configuration:
        current = self.get(user_id, config_id)
        deleted = replace(current, deleted_at=now, version=current.version + 1)
        self.configs[(user_id, config_id)] = deleted
        self.users.set_config_count(user_id, -1, None)
        return deleted

    def transfer(
        self, config: Configuration, to_user_id: str, *, max_allowed: int, now: datetime
    ) -> Configuration:
        current = self.configs.get((config.user_id, config.config_id))
        if (
            current is None
            or current.deleted_at is not None
            or current.version != config.version
            or (to_user_id, config.config_id) in self.configs
        ):
            raise ConflictError(
                f"configuration {config.config_id} changed or moved since it was read"
            )
        self.users.set_config_count(to_user_id, +1, max_allowed)
        moved = replace(current, user_id=to_user_id, updated_at=now)
        self.configs[(to_user_id, config.config_id)] = moved
        self.configs[(config.user_id, config.config_id)] = replace(
            current, deleted_at=now, version=current.version + 1
        )
        self.users.set_config_count(config.user_id, -1, None)
        return moved

    def tracked_tickers(self) -> list[str]:
        live = (c for c in self.configs.values() if c.deleted_at is None)
        return sorted({t for c in live for t in c.tickers})
