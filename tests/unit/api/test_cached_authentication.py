"""Authentication reads the session on every request and keeps only the account behind it:
a revocation or expiry counts at once, refusals are never remembered, and a sign-in that
changes an account drops its cached copy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.api.dependencies import ApiDependencies
from services.api.principal import cached_authenticate
from services.auth.accounts import MergeReport, SignIn
from services.auth.sessions import AuthenticationError, start_anonymous_session
from services.settings import Settings
from services.store.memory import MemoryStore
from tests.unit.auth.support import Clock
from tests.unit.support.counting import CountingUsers
from tests.unit.support.memory_api import memory_api_dependencies

pytestmark = pytest.mark.unit


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def users() -> CountingUsers:
    return CountingUsers()


@pytest.fixture
def deps(clock: Clock, users: CountingUsers) -> ApiDependencies:
    memory = MemoryStore.empty(clock, users=users)
    return memory_api_dependencies(Settings(anonymous_session_ttl_s=3600), memory, clock=clock)


def test_the_account_is_read_once_per_cache_lifetime(
    deps: ApiDependencies, users: CountingUsers
) -> None:
    issued = start_anonymous_session(
        deps.store.users, deps.store.sessions, deps.settings, deps.clock
    )
    first = cached_authenticate(issued.token, deps)
    second = cached_authenticate(issued.token, deps)
    assert first == second and first.user.user_id == issued.user.user_id
    assert users.reads == 1


def test_a_revocation_counts_at_once_even_with_the_account_cached(deps: ApiDependencies) -> None:
    issued = start_anonymous_session(
        deps.store.users, deps.store.sessions, deps.settings, deps.clock
    )
    principal = cached_authenticate(issued.token, deps)
    # Revoked behind this instance's back, as another instance would.
    deps.store.sessions.revoke(principal.session, deps.clock())
    with pytest.raises(AuthenticationError):
        cached_authenticate(issued.token, deps)


def test_an_expired_session_is_refused(deps: ApiDependencies, clock: Clock) -> None:
    issued = start_anonymous_session(
        deps.store.users, deps.store.sessions, deps.settings, deps.clock
    )
    cached_authenticate(issued.token, deps)
    clock.now += timedelta(seconds=3600)
    with pytest.raises(AuthenticationError):
        cached_authenticate(issued.token, deps)


def test_refusals_are_not_remembered(deps: ApiDependencies) -> None:
    for token in ("made-up-token", None, ""):
        with pytest.raises(AuthenticationError):
            cached_authenticate(token, deps)


def test_a_sign_in_drops_the_cached_account(deps: ApiDependencies, users: CountingUsers) -> None:
    issued = start_anonymous_session(
        deps.store.users, deps.store.sessions, deps.settings, deps.clock
    )
    cached_authenticate(issued.token, deps)
    account = start_anonymous_session(
        deps.store.users, deps.store.sessions, deps.settings, deps.clock
    )
    merge = MergeReport("moved", from_user_id=issued.user.user_id)
    deps.forget_sign_in(SignIn(account, merge, created=False))
    cached_authenticate(issued.token, deps)
    assert users.reads == 2
