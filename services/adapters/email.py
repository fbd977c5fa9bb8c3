"""Sending e-mail: the `EmailSender` protocol and its SendGrid implementation.

`SendGridEmailSender` uses SendGrid's official client. Its HTTP failures become the typed
provider errors of `services.adapters.errors`, so callers decide on one small set: rate
limited (with the seconds to wait), unavailable or timed out (retry later), auth (our key is
wrong: an operator must act), bad request (our message is wrong).

A 403 is told apart by SendGrid's `{"errors": [{"message", "field", "help"}]}`: on the `from`
field (the address is not a verified Sender Identity) it is an `EmailSenderNotVerifiedError`;
about the key ("access forbidden": it lacks the `mail.send` permission) or without a message,
a `ProviderAuthError`; anything else (a temporary block, an account under review) a
`ProviderForbiddenError`. A 401 "Maximum credits exceeded" is the plan's allowance, not the
key: a `ProviderQuotaExceededError`. SendGrid's message is kept in every one of them (it
never quotes the key or the e-mail).

Neither the API key nor a message body ever reaches a log line or an error message: bodies
carry sign-in links, and the client library logs request headers and payloads at DEBUG, so its
debug records are dropped here.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import python_http_client
import sendgrid
from sendgrid.helpers.mail import From, Header, Mail, To

from services.adapters.errors import (
    EmailSenderNotVerifiedError,
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderError,
    ProviderForbiddenError,
    ProviderQuotaExceededError,
    ProviderRateLimitedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)

if TYPE_CHECKING:
    from services.resilience.guard import CallGuard

PROVIDER = "sendgrid"
LOG = logging.getLogger(__name__)
# When SendGrid says neither Retry-After nor X-RateLimit-Reset, wait this long.
DEFAULT_RETRY_AFTER_S = 60.0
REFERENCE_HEADER = "X-Entity-Ref-ID"
# A 403 about the key: it lacks the permission ("access forbidden") or was refused.
_KEY_REFUSED = re.compile(
    r"access forbidden|permission|api key|credentials|authorization grant", re.IGNORECASE
)
_SENDER = re.compile(r"sender identity", re.IGNORECASE)
_CREDITS = re.compile(r"maximum credits exceeded", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None
    # Our id of the e-mail, sent as `X-Entity-Ref-ID`: the same e-mail sent again is
    # recognisable at the receiving end (and in the local emulator's outbox).
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class SentEmail:
    message_id: str | None
    status: int


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> SentEmail: ...


def _drop_debug(record: logging.LogRecord) -> bool:
    return record.levelno > logging.DEBUG


def _silence_client_debug() -> None:
    # python_http_client logs the Authorization header and the payload at DEBUG.
    client_logger = logging.getLogger("python_http_client.client")
    if _drop_debug not in client_logger.filters:
        client_logger.addFilter(_drop_debug)


class SendGridEmailSender:
    """One SendGrid account: key, API root, sender address and timeout fixed at construction."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        from_address: str,
        from_name: str | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        _silence_client_debug()
        self._client = sendgrid.SendGridAPIClient(api_key=api_key, host=base_url.rstrip("/"))
        # The client has no timeout unless told; a hung socket must not hang a request.
        self._client.client.timeout = timeout_s
        self._from = From(from_address, from_name)

    def send(self, message: EmailMessage) -> SentEmail:
        mail = Mail(
            from_email=self._from,
            to_emails=To(message.to),
            subject=message.subject,
            plain_text_content=message.text,
            html_content=message.html,
        )
        if message.reference:
            mail.header = Header(REFERENCE_HEADER, message.reference)
        try:
            response = self._client.send(mail)
        except python_http_client.exceptions.HTTPError as error:
            raise _http_error(error) from None
        except TimeoutError as error:
            raise ProviderTimeoutError(PROVIDER, "mail send timed out") from error
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise ProviderTimeoutError(PROVIDER, "mail send timed out") from error
            raise ProviderUnavailableError(
                PROVIDER, f"mail send failed: {type(error.reason).__name__}"
            ) from error
        except OSError as error:
            raise ProviderUnavailableError(
                PROVIDER, f"mail send failed: {type(error).__name__}"
            ) from error
        headers = response.headers
        message_id = headers.get("X-Message-Id") if headers is not None else None
        return SentEmail(message_id=message_id, status=int(response.status_code))


class GuardedEmailSender:
    """Every send through a `CallGuard`: SendGrid's circuit breaker and daily quota apply to
    it. `priority` is the sender's kind of mail (sign-in links: a person is waiting); `share`
    the share of the quota it is kept within (sign-in links, which anybody can ask for)."""

    def __init__(
        self, sender: EmailSender, guard: CallGuard, *, priority: bool, share: str | None = None
    ) -> None:
        self._sender = sender
        self._guard = guard
        self._priority = priority
        self._share = share

    def send(self, message: EmailMessage) -> SentEmail:
        return self._guard.call(
            PROVIDER,
            partial(self._sender.send, message),
            priority=self._priority,
            share=self._share,
        )


def _http_error(error: Any) -> ProviderError:
    """The typed error for one of python_http_client's HTTP errors (`from None`: its body and
    the request it came from stay out of tracebacks)."""
    status = int(getattr(error, "status_code", 0) or 0)
    headers = getattr(error, "headers", None) or {}
    problem = _first_problem(getattr(error, "body", b""))
    reason = _sentence(problem)
    if status == 429:
        return ProviderRateLimitedError(
            PROVIDER,
            f"rate limited{_suffix(reason)}",
            retry_after=retry_after_seconds(headers),
        )
    if status == 401 and problem is not None and _CREDITS.search(problem[0]):
        return ProviderQuotaExceededError(
            PROVIDER,
            f"the plan's credits are used up ({status}){_suffix(reason)}",
            status,
            retry_after_seconds(headers),
            reason=problem[0],
        )
    if status == 403:
        return _forbidden(problem, reason)
    if status == 401:
        return ProviderAuthError(
            PROVIDER, f"the API key was refused ({status}){_suffix(reason)}", status
        )
    if status >= 500:
        return ProviderUnavailableError(PROVIDER, f"server error {status}{_suffix(reason)}", status)
    if 400 <= status < 500:
        return ProviderBadRequestError(
            PROVIDER, f"the message was rejected ({status}){_suffix(reason)}", status
        )
    return ProviderError(PROVIDER, f"unexpected status {status}", status)


def _forbidden(problem: tuple[str, str | None] | None, reason: str | None) -> ProviderError:
    """A 403 by what SendGrid says: the sender, the key, or the account."""
    if problem is None:
        return ProviderAuthError(PROVIDER, "the API key was refused (403)", 403)
    message, field = problem
    if field == "from" or _SENDER.search(message):
        return EmailSenderNotVerifiedError(
            PROVIDER,
            f"the sender address was refused (403){_suffix(reason)}",
            403,
            reason=message,
            field=field,
        )
    if _KEY_REFUSED.search(message):
        return ProviderAuthError(PROVIDER, f"the API key was refused (403){_suffix(reason)}", 403)
    return ProviderForbiddenError(
        PROVIDER, f"SendGrid refused the send (403){_suffix(reason)}", 403, reason=message
    )


def _suffix(reason: str | None) -> str:
    return f": {reason}" if reason else ""


def _first_problem(body: Any) -> tuple[str, str | None] | None:
    """The `message` and `field` of the first of SendGrid's `{"errors": [...]}`."""
    try:
        text = body.decode() if isinstance(body, bytes) else str(body or "")
        errors = json.loads(text).get("errors") or []
        first = errors[0]
    except (ValueError, AttributeError, IndexError, TypeError, UnicodeDecodeError):
        return None
    if not isinstance(first, dict) or not first.get("message"):
        return None
    field = first.get("field")
    return str(first["message"])[:300], str(field) if field else None


def _sentence(problem: tuple[str, str | None] | None) -> str | None:
    """SendGrid's problem as one short sentence."""
    if problem is None:
        return None
    message, field = problem
    return (message + (f" (field {field})" if field else ""))[:300]


def retry_after_seconds(headers: Mapping[str, str] | Any, now: float | None = None) -> float:
    """Seconds to wait, from `Retry-After` (seconds or HTTP date) or SendGrid's
    `X-RateLimit-Reset` (epoch seconds); a default when neither is usable."""
    moment = time.time() if now is None else now
    value = headers.get("Retry-After")
    if value:
        try:
            return max(1.0, float(value))
        except ValueError:
            try:
                return max(1.0, parsedate_to_datetime(value).timestamp() - moment)
            except (TypeError, ValueError):
                pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(1.0, float(reset) - moment)
        except ValueError:
            pass
    return DEFAULT_RETRY_AFTER_S
