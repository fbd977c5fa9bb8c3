"""Bearer sessions: issued as opaque random secrets, stored hashed, checked on every request."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

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
    user: User,
    sessions: SessionRepository,
    settings: Settings,
    clock: Clock,
    *,
    now: datetime | None = None,
) -> IssuedSession:
    now = now or clock()
    token = secrets.token_urlsafe(32)
    session = Session(
        session_id=str(uuid.uuid4()),
        user_id=user.user_id,
        auth_type=user.auth_type,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + session_ttl(user.auth_type, settings),
        # Instances that cached an older copy of this user (before an upgrade) see that it is
        # older than the session and read it again.
        account_version=user.version,
    )
    return IssuedSession(user, sessions.create(session), token)


def anonymous_user_expiry(session_expires_at: datetime, settings: Settings) -> datetime:
    """When the table may forget an anonymous user: its last session's expiry plus a grace
    period, so a live session always finds its user and the cleanup has time to run."""
    return session_expires_at + timedelta(seconds=settings.anonymous_user_grace_s)


def start_anonymous_session(
    users: UserRepository, sessions: SessionRepository, settings: Settings, clock: Clock
) -> IssuedSession:
    """A new anonymous user and its one session. Each anonymous start makes a new user, so
    the user's expiry, set here from the session's, is tied to its last (and only) session;
    a sign-in that upgrades the user removes it."""
    now = clock()
    session_expires_at = now + session_ttl("anonymous", settings)
    user = users.create(
        User(
            user_id=str(uuid.uuid4()),
            auth_type="anonymous",
            created_at=now,
            expires_at=anonymous_user_expiry(session_expires_at, settings),
        )
    )
    return open_session(user, sessions, settings, clock, now=now)


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
