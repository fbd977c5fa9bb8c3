"""Sign-in e-mails are limited per recipient and per caller's address an hour, checked before
anything else, the same whether or not the address has an account; they are sent within
their share of SendGrid's day, and a send the guard refused gives its uses back. In-memory
repositories and quota store, a real guard."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from services.adapters.email import GuardedEmailSender
from services.auth.magic_link import SIGN_IN_SHARE, EmailNotSentError, MagicLinks
from services.auth.sign_in_limits import PER_CLIENT, PER_RECIPIENT, SignInEmailLimits
from services.resilience.allowance import AllowanceExceededError, Allowances
from services.resilience.quota import QuotaLimit, QuotaPolicy, QuotaTracker
from services.resilience.resilient_guard import ResilientGuard
from services.settings import Settings
from services.store.memory import (
    InMemoryAllowanceStore,
    InMemoryCircuitStore,
    InMemoryQuotaStore,
    InMemoryUserRepository,
)
from services.store.models import User
from tests.emails import Mailbox
from tests.unit.auth.support import START, Clock, in_memory_magic_links

pytestmark = pytest.mark.unit

ATTACKER = "198.51.100.23"


class NoLookups(InMemoryUserRepository):
    """Fails the test if requesting a link looks an account up by its address."""

    def find_by_email(self, email: str) -> User | None:
        raise AssertionError("requesting a link must not look the address up")


@dataclass
class World:
    links: MagicLinks
    mailbox: Mailbox
    quotas: QuotaTracker
    users: InMemoryUserRepository


def world(*, daily_emails: int = 1_500, **settings: object) -> World:
    clock = Clock()
    config = Settings(**settings)  # type: ignore[arg-type]
    users = NoLookups()
    quotas = QuotaTracker(
        {"sendgrid": QuotaLimit(daily_emails, "day")},
        InMemoryQuotaStore(),
        clock,
        QuotaPolicy(),
        {"sendgrid": {SIGN_IN_SHARE: config.sendgrid_sign_in_share}},
    )
    guard = ResilientGuard(("sendgrid",), InMemoryCircuitStore(), quotas, clock)
    mailbox = Mailbox()
    sender = GuardedEmailSender(mailbox, guard, priority=True, share=SIGN_IN_SHARE)
    limits = SignInEmailLimits.of(Allowances(InMemoryAllowanceStore(), clock), config)
    links, _ = in_memory_magic_links(sender, config, clock, users=users, limits=limits)
    return World(links, mailbox, quotas, users)


def outcomes(links: MagicLinks, addresses: list[str], client: str = ATTACKER) -> list[str]:
    """Per request: "sent", the limit that refused it, or "quota" (the share is used up)."""
    found = []
    for address in addresses:
        try:
            links.request(address, None, client_address=client)
            found.append("sent")
        except AllowanceExceededError as refused:
            found.append(refused.allowance.name)
        except EmailNotSentError as refused:
            assert refused.quota_exhausted
            found.append("quota")
    return found


def test_one_recipient_gets_at_most_five_links_an_hour_from_anywhere() -> None:
    w = world()
    victim = "victim@example.com"

    first = outcomes(w.links, [victim] * 4, client="203.0.113.1")
    then = outcomes(w.links, [victim] * 4, client="203.0.113.2")

    assert first + then == ["sent"] * 5 + [PER_RECIPIENT] * 3
    assert len(w.mailbox.sent) == 5
    assert outcomes(w.links, ["someone.else@example.com"], client="203.0.113.2") == ["sent"]


def test_one_client_address_asks_for_at_most_twenty_links_an_hour() -> None:
    w = world()
    addresses = [f"reader{n}@example.com" for n in range(100)]

    found = outcomes(w.links, addresses)

    assert found == ["sent"] * 20 + [PER_CLIENT] * 80
    assert outcomes(w.links, ["reader0@example.com"], client="203.0.113.9") == ["sent"]


def test_a_hundred_requests_spend_at_most_the_sign_in_share_of_sendgrids_day() -> None:
    w = world(daily_emails=100)
    addresses = [f"reader{n}@example.com" for n in range(100)]

    found = outcomes(w.links, addresses)

    assert found == ["sent"] * 10 + ["quota"] * 90
    assert w.quotas.view("sendgrid").used == 10
    # What the share leaves: alerts and digests still have 90 of the day.
    for _ in range(90):
        w.quotas.acquire("sendgrid")


def test_a_send_the_guard_refused_gives_its_uses_back() -> None:
    w = world(daily_emails=100, sign_in_emails_per_client_per_hour=12)
    addresses = [f"reader{n}@example.com" for n in range(30)]

    found = outcomes(w.links, addresses)

    # 10 sent, then refused by the share without asking SendGrid: those count nothing, so
    # the client has 2 of its 12 left.
    assert found == ["sent"] * 10 + ["quota"] * 20
    assert w.links.limits is not None
    w.links.limits.take("late@example.com", ATTACKER)
    w.links.limits.take("later@example.com", ATTACKER)
    with pytest.raises(AllowanceExceededError):
        w.links.limits.take("latest@example.com", ATTACKER)


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account() -> None:
    w = world()
    account = "member@example.com"
    InMemoryUserRepository.create(
        w.users, User(user_id="u1", auth_type="email", created_at=START, email=account)
    )

    with_account = outcomes(w.links, [account] * 7, client="203.0.113.1")
    without = outcomes(w.links, ["stranger@example.com"] * 7, client="203.0.113.2")

    assert with_account == without == ["sent"] * 5 + [PER_RECIPIENT] * 2


def test_an_invalid_address_uses_no_allowance() -> None:
    w = world(sign_in_emails_per_client_per_hour=2)

    for _ in range(5):
        with pytest.raises(ValueError):
            w.links.request("not-an-address", None, client_address=ATTACKER)

    assert outcomes(w.links, ["a@example.com", "b@example.com"]) == ["sent", "sent"]


def test_the_limits_are_the_settings() -> None:
    w = world(sign_in_emails_per_recipient_per_hour=2)

    assert outcomes(w.links, ["reader@example.com"] * 3) == ["sent", "sent", PER_RECIPIENT]
