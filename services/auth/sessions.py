"""Bearer sessions: issued as opaque random secrets, stored hashed, checked on every request."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from services.clock import Clock
from services.settings import Settings
from services.store.errors import NotFoundError
from services.store.models import AuthType, Session, User
from services.store.sessions import SessionRepository, token_hash
from services.store.users import UserRepository


class AuthenticationError(Exception):
    """No usable bearer token: missing, unknown, expired or revoked (all answer 401)."""


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    session: Session


@dataclass(frozen=True, slots=True)
class IssuedSession:
    user: User
    session: Session
    token: str  # shown to the caller once; only its hash is stored


@dataclass(frozen=True, slots=True)
class Limits:
    max_configurations: int
    max_tickers_per_configuration: int
    alerts: str  # "basic" for anonymous sessions, "full" for accounts


def limits_for(user: User, settings: Settings) -> Limits:
    if user.auth_type == "anonymous":
        return Limits(settings.max_configs_anonymous, settings.max_tickers_per_config, "basic")
    return Limits(settings.max_configs_account, settings.max_tickers_per_config, "full")


def session_ttl(auth_type: AuthType, settings: Settings) -> timedelta:
    seconds = (
        settings.anonymous_session_ttl_s
        if auth_type == "anonymous"
        else settings.account_session_ttl_s
    )
    return timedelta(seconds=seconds)


def open_session(
    user: User, sessions: SessionRepository, settings: Settings, clock: Clock
) -> IssuedSession:
    now = clock()
    token = secrets.token_urlsafe(32)
    session = Session(
        session_id=str(uuid.uuid4()),
        user_id=user.user_id,
        auth_type=user.auth_type,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + session_ttl(user.auth_type, settings),
    )
    return IssuedSession(user, sessions.create(session), token)


def start_anonymous_session(
    users: UserRepository, sessions: SessionRepository, settings: Settings, clock: Clock
) -> IssuedSession:
    user = users.create(User(user_id=str(uuid.uuid4()), auth_type="anonymous", created_at=clock()))
    return open_session(user, sessions, settings, clock)


def authenticate(
    token: str | None, sessions: SessionRepository, users: UserRepository, clock: Clock
) -> Principal:
    if not token:
        raise AuthenticationError("this route needs an Authorization: Bearer token")
    session = sessions.find_by_token_hash(token_hash(token), clock())
    if session is None:
        raise AuthenticationError("the bearer token is unknown, expired or revoked")
    try:
        user = users.get(session.user_id)
    except NotFoundError:
        raise AuthenticationError("the bearer token's account no longer exists") from None
    return Principal(user, session)
