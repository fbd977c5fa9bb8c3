"""Signing in with a link sent by e-mail.

Requesting a link stores a single-use token (its SHA-256 only, like every bearer) for
`magic_link_ttl_s` and e-mails the token, inside a link to the workbench and on its own.
Verifying consumes it exactly once (used -> `LinkUsedError`, expired -> `LinkExpiredError`,
unknown or malformed -> `InvalidLinkError`) and signs in to the address's account through
`AccountSignIn`, converting the caller's anonymous session when it has one.

The answer to a request is the same whether or not an account exists, so it reveals nothing
about who has one: requesting never looks an account up.

Requests are limited before anything else happens (`SignInEmailLimits`: per recipient and per
caller's network address an hour), and the e-mails are sent within their share of the
provider's quota (`SIGN_IN_SHARE`), so asking for links can never spend what alerts and
digests need. A request refused by the guard (the share used up, the circuit open) gives its
use of the limits back: no e-mail was sent.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from services.adapters.email import EmailMessage, EmailSender
from services.adapters.errors import ProviderError, ProviderRateLimitedError
from services.auth.accounts import AccountSignIn, SignIn
from services.auth.sessions import Principal
from services.auth.sign_in_limits import SignInEmailLimits
from services.auth.single_use import SingleUseTokens, TokenRead
from services.clock import Clock
from services.resilience.guard import CallRefusedError
from services.resilience.quota import QuotaExhaustedError
from services.settings import Settings
from services.store.errors import NotFoundError, TokenExpiredError, TokenUsedError
from services.store.models import SingleUseToken, TokenKind
from services.store.sessions import token_hash
from services.store.tokens import TokenRepository

LOG = logging.getLogger(__name__)
KIND: TokenKind = "magic_link"
# The share of the e-mail provider's quota sign-in e-mails are kept within.
SIGN_IN_SHARE = "sign_in"
MAX_EMAIL_LENGTH = 254
# Deliberately loose: one "@", no spaces, a dot in the domain. Deliverability is proven by
# the link arriving, not by a pattern.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# What `secrets.token_urlsafe` produces; anything else cannot be one of our tokens.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
# Seconds a caller should wait after a failure that names no delay of its own.
_RETRY_AFTER_S = 30.0


class MagicLinkError(Exception):
    """Base of the journey's errors; each maps to one HTTP status."""


class InvalidEmailError(MagicLinkError, ValueError):
    pass


class InvalidLinkError(MagicLinkError):
    pass


class LinkUsedError(MagicLinkError):
    pass


class LinkExpiredError(MagicLinkError):
    pass


# What a person is told about a link the store does not let through.
_LINK_REFUSALS = {
    NotFoundError: (InvalidLinkError, "the sign-in link is not valid; ask for a new one"),
    TokenUsedError: (LinkUsedError, "the sign-in link was already used; ask for a new one"),
    TokenExpiredError: (LinkExpiredError, "the sign-in link has expired; ask for a new one"),
}
_LINKS = SingleUseTokens(KIND, _TOKEN, _LINK_REFUSALS)


def read_link(token: str, read: TokenRead, clock: Clock) -> SingleUseToken:
    """The stored link a token names, read with `read` (the store's `consume`, or `peek` to
    leave it usable), or the error a person is shown: ask for a new link."""
    return _LINKS.read(token.strip(), read, clock)


class EmailNotSentError(MagicLinkError):
    """The provider did not take the e-mail (or was not asked: its circuit is open, or the
    day's quota is used up); the link was withdrawn and can be asked again."""

    def __init__(self, message: str, retry_after_s: float, *, quota_exhausted: bool = False):
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.quota_exhausted = quota_exhausted


def normalise_email(raw: str) -> str:
    address = raw.strip().lower()
    if len(address) > MAX_EMAIL_LENGTH or not _EMAIL.match(address):
        raise InvalidEmailError("email must be an address like name@example.com")
    return address


@dataclass(frozen=True, slots=True)
class LinkSent:
    expires_in_seconds: int
    message_id: str | None


@dataclass(frozen=True)
class MagicLinks:
    tokens: TokenRepository
    sender: EmailSender
    accounts: AccountSignIn
    settings: Settings
    clock: Clock
    # None only where nothing is exposed (unit tests of the journey itself).
    limits: SignInEmailLimits | None = None

    def request(
        self, email: str, caller: Principal | None, *, client_address: str = ""
    ) -> LinkSent:
        """Send a link to `email`. `client_address`: the caller's network address, as the
        limits count it. Raises `AllowanceExceededError` when a limit is reached."""
        address = normalise_email(email)
        taken = self.limits.take(address, client_address) if self.limits else None
        token = secrets.token_urlsafe(32)
        hashed = token_hash(token)
        now = self.clock()
        ttl = self.settings.magic_link_ttl_s
        data: dict[str, str] = {}
        if caller is not None and caller.user.auth_type == "anonymous":
            # For the audit trail only: the merge follows the bearer presented at verify time,
            # so a link asked for someone else's address can never pull data into their account.
            data["requested_by"] = caller.user.user_id
        self.tokens.put(
            SingleUseToken(
                token_hash=hashed,
                kind=KIND,
                subject=address,
                created_at=now,
                expires_at=now + timedelta(seconds=ttl),
                data=data,
            )
        )
        try:
            sent = self.sender.send(self._message(address, token, ttl))
        except ProviderError as error:
            self._withdraw(hashed)
            LOG.warning("sign-in e-mail not sent: %s", error)
            if self.limits and taken and isinstance(error, CallRefusedError):
                # SendGrid was never asked (the share is spent, the circuit open): nothing
                # reached the inbox, so nobody's hourly allowance pays for it.
                self.limits.give_back(taken)
            retry = error.retry_after if isinstance(error, ProviderRateLimitedError) else None
            if isinstance(error, CallRefusedError):
                retry = max(1.0, error.retry_after_s)
            raise EmailNotSentError(
                "could not send the e-mail now; try again",
                retry or _RETRY_AFTER_S,
                quota_exhausted=isinstance(error, QuotaExhaustedError),
            ) from error
        LOG.info("sign-in e-mail accepted (message id %s)", sent.message_id)
        return LinkSent(expires_in_seconds=ttl, message_id=sent.message_id)

    def verify(self, token: str, caller: Principal | None) -> SignIn:
        consumed = read_link(token, self.tokens.consume, self.clock)
        return self.accounts.sign_in(consumed.subject, "email", caller)

    def link_url(self, token: str) -> str:
        base = self.settings.magic_link_url
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}{urlencode({'magic_token': token})}"

    def _message(self, address: str, token: str, ttl_s: int) -> EmailMessage:
        url = self.link_url(token)
        minutes = max(1, ttl_s // 60)
        text = (
            "Open this link to sign in to Sentiment Deep Dive:\n\n"
            f"{url}\n\n"
            f"Or paste this code into the sign-in form: {token}\n\n"
            f"The link works once and expires in {minutes} minutes. "
            "If you did not ask for it, ignore this e-mail."
        )
        page = (
            "<p>Open this link to sign in to Sentiment Deep Dive:</p>"
            f'<p><a href="{html.escape(url)}">Sign in</a></p>'
            f"<p>Or paste this code into the sign-in form: <code>{html.escape(token)}</code></p>"
            f"<p>The link works once and expires in {minutes} minutes. "
            "If you did not ask for it, ignore this e-mail.</p>"
        )
        return EmailMessage(to=address, subject="Your sign-in link", text=text, html=page)

    def _withdraw(self, hashed: str) -> None:
        """Spend the unsent token so no usable link is left behind that nobody received."""
        try:
            self.tokens.consume(hashed, KIND, self.clock())
        except Exception as error:
            # Already failing: the caller must hear about the e-mail, not about this. The
            # token was never sent, so nobody holds it; it expires with its TTL.
            LOG.warning("could not withdraw an unsent sign-in link: %s", type(error).__name__)
