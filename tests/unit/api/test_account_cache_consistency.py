"""Two API instances share the table but not their account caches: an upgrade made through
one must not be answered from the other's stale copy of the anonymous user."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.api.dependencies import ApiDependencies
from services.api.principal import cached_authenticate
from services.auth.accounts import AccountSignIn
from services.auth.sessions import start_anonymous_session
from services.composition.api import table_api_dependencies
from services.settings import Settings
from services.store.memory import (
    InMemoryConfigurationRepository,
    InMemorySessionRepository,
    InMemoryUserRepository,
)
from tests.unit.auth.support import Clock
from tests.unit.support.counting import CountingUsers

pytestmark = pytest.mark.unit


def instance(users: InMemoryUserRepository, sessions: InMemorySessionRepository) -> ApiDependencies:
    """One function instance: its own caches (a 60 s account cache), the shared table."""
    deps = table_api_dependencies(Settings(account_cache_ttl_s=60.0), clock=Clock())
    deps.store = replace(deps.store, users=users, sessions=sessions)
    return deps


def test_an_upgrade_elsewhere_is_not_served_from_a_stale_account_cache() -> None:
    # Given an anonymous session that instance B has authenticated (and cached)
    users, sessions = CountingUsers(), InMemorySessionRepository()
    first, second = instance(users, sessions), instance(users, sessions)
    issued = start_anonymous_session(users, sessions, first.settings, first.clock)
    assert cached_authenticate(issued.token, second).user.auth_type == "anonymous"

    # When instance A upgrades it into an account by signing in
    guest = cached_authenticate(issued.token, first)
    signed = AccountSignIn(
        users, sessions, InMemoryConfigurationRepository(users), first.settings, first.clock
    ).sign_in("reader@example.com", "email", guest)
    first.forget_sign_in(signed)

    # Then instance B, within its cache's lifetime, sees the account for the new session
    principal = cached_authenticate(signed.issued.token, second)
    assert principal.user.auth_type == "email"
    assert principal.user.email == "reader@example.com"
    # And keeps the fresh copy: the next request is a cache hit again
    reads = users.reads
    cached_authenticate(signed.issued.token, second)
    assert users.reads == reads


def test_the_old_anonymous_token_is_refused_everywhere_at_once() -> None:
    # Revocation is read from the session on every request, never from a cache.
    users, sessions = CountingUsers(), InMemorySessionRepository()
    first, second = instance(users, sessions), instance(users, sessions)
    issued = start_anonymous_session(users, sessions, first.settings, first.clock)
    cached_authenticate(issued.token, second)
    guest = cached_authenticate(issued.token, first)
    AccountSignIn(
        users, sessions, InMemoryConfigurationRepository(users), first.settings, first.clock
    ).sign_in("reader@example.com", "email", guest)

    with pytest.raises(Exception, match="unknown, expired or revoked"):
        cached_authenticate(issued.token, second)
