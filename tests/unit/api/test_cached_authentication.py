"""Checked sessions are remembered per instance, but never past their expiry, never after
this instance revokes them, and refusals are never remembered."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.api.dependencies import ApiDependencies
from services.api.principal import cached_authenticate
from services.auth.sessions import AuthenticationError, start_anonymous_session
from services.settings import Settings
from services.store.memory import InMemorySessionRepository, InMemoryUserRepository
from services.store.models import Session
from services.store.sessions import token_hash
from tests.unit.auth.support import Clock

pytestmark = pytest.mark.unit


class CountingSessions(InMemorySessionRepository):
    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def find_by_token_hash(self, token_hash: str, now: datetime) -> Session | None:
        self.lookups += 1
        return super().find_by_token_hash(token_hash, now)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deps(clock: Clock) -> ApiDependencies:
    deps = ApiDependencies(settings=Settings(anonymous_session_ttl_s=3600), clock=clock)
    deps.users = InMemoryUserRepository()  # type: ignore[misc]
    deps.sessions = CountingSessions()  # type: ignore[misc]
    return deps


def test_a_checked_session_is_answered_from_the_cache(deps: ApiDependencies) -> None:
    issued = start_anonymous_session(deps.users, deps.sessions, deps.settings, deps.clock)
    first = cached_authenticate(issued.token, deps)
    second = cached_authenticate(issued.token, deps)
    assert first == second and first.user.user_id == issued.user.user_id
    assert deps.sessions.lookups == 1  # type: ignore[attr-defined]


def test_a_cached_session_is_refused_once_it_expires(deps: ApiDependencies, clock: Clock) -> None:
    issued = start_anonymous_session(deps.users, deps.sessions, deps.settings, deps.clock)
    cached_authenticate(issued.token, deps)
    clock.now += timedelta(seconds=3600)
    with pytest.raises(AuthenticationError):
        cached_authenticate(issued.token, deps)


def test_a_revoked_session_is_refused_once_its_entry_is_dropped(deps: ApiDependencies) -> None:
    issued = start_anonymous_session(deps.users, deps.sessions, deps.settings, deps.clock)
    principal = cached_authenticate(issued.token, deps)
    deps.sessions.revoke(principal.session, deps.clock())
    deps.principals.invalidate(token_hash(issued.token))
    with pytest.raises(AuthenticationError):
        cached_authenticate(issued.token, deps)


def test_refusals_are_not_remembered(deps: ApiDependencies) -> None:
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            cached_authenticate("made-up-token", deps)
    assert deps.sessions.lookups == 2  # type: ignore[attr-defined]
    with pytest.raises(AuthenticationError):
        cached_authenticate(None, deps)
