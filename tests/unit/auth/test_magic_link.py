"""The magic-link journey and account conversion on the in-memory repositories."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from services.adapters.email import EmailMessage, SentEmail
from services.adapters.errors import ProviderRateLimitedError, ProviderUnavailableError
from services.auth.accounts import AccountSignIn
from services.auth.magic_link import (
    EmailNotSentError,
    InvalidEmailError,
    InvalidLinkError,
    LinkExpiredError,
    LinkUsedError,
    MagicLinks,
    normalise_email,
)
from services.auth.sessions import Principal
from services.settings import Settings
from services.store.memory import (
    InMemoryConfigurationRepository,
    InMemorySessionRepository,
    InMemoryTokenRepository,
    InMemoryUserRepository,
)
from services.store.models import User
from services.store.sessions import token_hash
from tests.unit.auth.support import START, Accounts, Clock

pytestmark = pytest.mark.unit


@dataclass
class Outbox:
    sent: list[EmailMessage] = field(default_factory=list)
    failure: Exception | None = None

    def send(self, message: EmailMessage) -> SentEmail:
        if self.failure is not None:
            raise self.failure
        self.sent.append(message)
        return SentEmail(message_id=f"m{len(self.sent)}", status=202)

    def token(self) -> str:
        found = re.search(r"magic_token=([A-Za-z0-9_-]+)", self.sent[-1].text)
        assert found is not None
        return found.group(1)


@dataclass
class World(Accounts):
    outbox: Outbox
    links: MagicLinks


@pytest.fixture
def world() -> World:
    users = InMemoryUserRepository()
    sessions = InMemorySessionRepository()
    tokens = InMemoryTokenRepository()
    configs = InMemoryConfigurationRepository(users)
    outbox, clock = Outbox(), Clock()
    settings = Settings(magic_link_url="https://app.test/app?theme=dark")
    accounts = AccountSignIn(users, sessions, configs, settings, clock)
    links = MagicLinks(tokens, outbox, accounts, settings, clock)
    return World(users, sessions, tokens, configs, clock, settings, outbox, links)


def test_addresses_are_normalised_and_checked() -> None:
    assert normalise_email("  Reader@Example.COM ") == "reader@example.com"
    for bad in ("reader", "a@b", "a b@c.de", "@c.de", "a@.de", "x" * 250 + "@c.de"):
        with pytest.raises(InvalidEmailError):
            normalise_email(bad)


def test_the_email_carries_the_link_and_the_token_and_only_a_hash_is_kept(world) -> None:
    sent = world.links.request("Reader@Example.com", None)

    assert (sent.expires_in_seconds, sent.message_id) == (900, "m1")
    (message,) = world.outbox.sent
    token = world.outbox.token()
    assert message.to == "reader@example.com"
    assert f"https://app.test/app?theme=dark&magic_token={token}" in message.text
    assert f"code into the sign-in form: {token}" in message.text
    (stored,) = world.tokens.tokens.values()
    assert stored.token_hash == token_hash(token) and token not in repr(stored)
    assert stored.expires_at == START + timedelta(minutes=15)
    assert stored.data == {}


def test_an_anonymous_requester_is_recorded_on_the_token(world) -> None:
    guest = world.guest()

    world.links.request("reader@example.com", guest)

    (stored,) = world.tokens.tokens.values()
    assert stored.data == {"requested_by": guest.user.user_id}


@pytest.mark.parametrize(
    ("failure", "retry"),
    [
        (ProviderRateLimitedError("sendgrid", "rate limited", retry_after=42.0), 42.0),
        (ProviderUnavailableError("sendgrid", "down"), 30.0),
    ],
)
def test_a_failed_send_withdraws_the_link(world, failure, retry) -> None:
    world.outbox.failure = failure

    with pytest.raises(EmailNotSentError) as caught:
        world.links.request("reader@example.com", None)

    assert caught.value.retry_after_s == retry
    (stored,) = world.tokens.tokens.values()
    assert stored.used_at is not None


def test_verify_signs_in_once_then_refuses(world) -> None:
    world.links.request("reader@example.com", None)
    token = world.outbox.token()

    signed = world.links.verify(token, None)

    assert signed.created and signed.merge.mode == "none"
    assert signed.issued.session.auth_type == "email"
    assert world.users.find_by_email("reader@example.com") == signed.issued.user
    with pytest.raises(LinkUsedError):
        world.links.verify(token, None)


def test_expired_and_unknown_links(world) -> None:
    world.links.request("reader@example.com", None)
    token = world.outbox.token()
    world.clock.now = START + timedelta(minutes=16)

    with pytest.raises(LinkExpiredError):
        world.links.verify(token, None)
    for bad in ("x" * 43, "bad token", ""):
        with pytest.raises(InvalidLinkError):
            world.links.verify(bad, None)


def test_an_oauth_account_signed_in_by_link_gets_an_email_session(world) -> None:
    world.users.create(
        User(user_id="o1", auth_type="oauth", created_at=START, email="reader@example.com")
    )
    world.links.request("reader@example.com", None)

    signed = world.links.verify(world.outbox.token(), None)

    assert signed.issued.user.user_id == "o1" and not signed.created
    assert signed.issued.session.auth_type == "email"
    assert world.users.get("o1").auth_type == "oauth"


def test_a_guest_becomes_the_new_account(world) -> None:
    guest = world.guest(configs=1)
    world.links.request("reader@example.com", guest)

    signed = world.links.verify(world.outbox.token(), guest)

    assert signed.merge.mode == "upgraded" and signed.merge.configurations_moved == 1
    account = world.users.get(guest.user.user_id)
    assert (account.auth_type, account.email) == ("email", "reader@example.com")
    assert world.sessions.find_by_token_hash(guest.session.token_hash, world.clock()) is None


def test_a_guest_merges_into_an_existing_account_up_to_its_limit(world) -> None:
    world.links.request("reader@example.com", None)
    account = world.links.verify(world.outbox.token(), None).issued.user
    reports = []
    for guest in (world.guest(configs=1), world.guest(configs=1), world.guest(configs=1)):
        world.links.request("reader@example.com", guest)
        signed = world.links.verify(world.outbox.token(), guest)
        assert signed.issued.user.user_id == account.user_id
        assert world.sessions.find_by_token_hash(guest.session.token_hash, world.clock()) is None
        merge = signed.merge
        reports.append((merge.mode, merge.configurations_moved, merge.configurations_not_moved))

    assert reports == [("moved", 1, 0), ("moved", 1, 0), ("moved", 0, 1)]
    assert len(world.configs.list_for_user(account.user_id)) == 2


def test_an_address_claimed_during_the_upgrade_falls_back_to_merging(world) -> None:
    guest = world.guest(configs=1)
    world.links.request("reader@example.com", guest)
    token = world.outbox.token()
    # Another sign-in claims the address between the look-up and the upgrade.
    original = world.users.find_by_email
    calls = {"n": 0}

    def racing_find(email: str) -> User | None:
        calls["n"] += 1
        if calls["n"] == 1:
            world.users.create(
                User(user_id="winner", auth_type="email", created_at=START, email=email)
            )
            return None
        return original(email)

    world.users.find_by_email = racing_find  # type: ignore[method-assign]

    signed = world.links.verify(token, guest)

    assert signed.issued.user.user_id == "winner"
    assert (signed.merge.mode, signed.merge.configurations_moved) == ("moved", 1)
    assert world.users.get(guest.user.user_id).auth_type == "anonymous"


def test_an_account_bearer_is_not_merged(world) -> None:
    world.links.request("first@example.com", None)
    signed = world.links.verify(world.outbox.token(), None)
    caller = Principal(signed.issued.user, signed.issued.session)
    world.links.request("second@example.com", caller)

    other = world.links.verify(world.outbox.token(), caller)

    assert other.merge.mode == "none" and other.issued.user.user_id != caller.user.user_id
    assert world.sessions.find_by_token_hash(caller.session.token_hash, world.clock())
    assert world.users.get(caller.user.user_id) == caller.user
