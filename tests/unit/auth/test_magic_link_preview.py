"""A magic link can be previewed (its address, masked) without being used, so a page opened
with one asks "sign in as ...?" before verifying it."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from services.auth.magic_link import KIND, InvalidLinkError, LinkExpiredError, LinkUsedError
from services.auth.magic_link_preview import mask_address, preview_link
from services.store.memory import InMemoryTokenRepository
from services.store.models import SingleUseToken
from services.store.sessions import token_hash
from tests.unit.auth.support import Clock

pytestmark = pytest.mark.unit


def a_link(tokens: InMemoryTokenRepository, clock: Clock, address: str) -> str:
    token = secrets.token_urlsafe(32)
    tokens.put(
        SingleUseToken(
            token_hash=token_hash(token),
            kind=KIND,
            subject=address,
            created_at=clock(),
            expires_at=clock() + timedelta(minutes=15),
        )
    )
    return token


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("reader@example.com", "re***r@example.com"),
        ("abc@example.com", "a**@example.com"),
        ("a@example.com", "a@example.com"),
        ("first.last+tag@mail.example.org", "fi***********g@mail.example.org"),
    ],
)
def test_addresses_are_masked_but_recognisable(address: str, shown: str) -> None:
    assert mask_address(address) == shown


def test_a_preview_names_the_masked_address_and_leaves_the_link_usable() -> None:
    tokens, clock = InMemoryTokenRepository(), Clock()
    token = a_link(tokens, clock, "reader@example.com")

    preview = preview_link(token, tokens, clock)

    assert preview.email_hint == "re***r@example.com"
    assert preview.expires_at == clock() + timedelta(minutes=15)
    # Still usable: previewing is not verifying.
    assert tokens.consume(token_hash(token), KIND, clock()).subject == "reader@example.com"


def test_a_used_an_expired_and_an_unknown_link_are_told_apart() -> None:
    tokens, clock = InMemoryTokenRepository(), Clock()
    used = a_link(tokens, clock, "a@example.com")
    tokens.consume(token_hash(used), KIND, clock())
    expired = a_link(tokens, clock, "b@example.com")

    with pytest.raises(LinkUsedError):
        preview_link(used, tokens, clock)
    with pytest.raises(InvalidLinkError):
        preview_link(secrets.token_urlsafe(32), tokens, clock)
    with pytest.raises(InvalidLinkError):
        preview_link("<not a token>", tokens, clock)
    clock.now += timedelta(minutes=16)
    with pytest.raises(LinkExpiredError):
        preview_link(expired, tokens, clock)
