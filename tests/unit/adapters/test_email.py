"""The SendGrid sender's request and error mapping, with the HTTP layer faked (no network).

SendGrid's client speaks urllib, not httpx, so respx cannot see it: the fake replaces the
urllib opener it builds, and the client's own error conversion still runs.
"""

from __future__ import annotations

import io
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.utils import formatdate
from typing import Any

import pytest

from services.adapters.email import (
    DEFAULT_RETRY_AFTER_S,
    EmailMessage,
    SendGridEmailSender,
    retry_after_seconds,
)
from services.adapters.errors import (
    EmailSenderNotVerifiedError,
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderForbiddenError,
    ProviderQuotaExceededError,
    ProviderRateLimitedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from services.resilience.breaker import counts_as_failure

pytestmark = pytest.mark.unit

BASE = "https://sendgrid.test"
KEY = "SG.secret-key-value"
LINK_TOKEN = "tok_Zk3xV9-link-token-value"
MESSAGE = EmailMessage(
    to="reader@example.com",
    subject="Your sign-in link",
    text=f"open https://app.test/?magic_token={LINK_TOKEN}",
    html=f'<a href="https://app.test/?magic_token={LINK_TOKEN}">Sign in</a>',
)


def _headers(values: dict[str, str]) -> Message:
    headers = Message()
    for name, value in values.items():
        headers[name] = value
    return headers


class FakeResponse:
    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self._status, self._headers = status, _headers(headers)

    def getcode(self) -> int:
        return self._status

    def read(self) -> bytes:
        return b""

    def info(self) -> Message:
        return self._headers


@dataclass
class FakeOpener:
    answer: Callable[[urllib.request.Request], FakeResponse]
    requests: list[urllib.request.Request] = field(default_factory=list)
    timeouts: list[float | None] = field(default_factory=list)

    def open(self, request: urllib.request.Request, timeout: float | None = None) -> FakeResponse:
        self.requests.append(request)
        self.timeouts.append(timeout)
        return self.answer(request)


def http_error(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    def answer(request: urllib.request.Request) -> FakeResponse:
        payload = json.dumps(body).encode() if body is not None else b""
        raise urllib.error.HTTPError(
            request.full_url, status, "error", _headers(headers or {}), io.BytesIO(payload)
        )

    return answer


def raises(error: BaseException) -> Any:
    def answer(request: urllib.request.Request) -> FakeResponse:
        raise error

    return answer


@pytest.fixture
def install(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], FakeOpener]:
    def _install(answer: Any) -> FakeOpener:
        opener = FakeOpener(answer)
        monkeypatch.setattr(urllib.request, "build_opener", lambda *handlers: opener)
        return opener

    return _install


@pytest.fixture
def sender() -> SendGridEmailSender:
    return SendGridEmailSender(
        BASE, KEY, from_address="no-reply@app.test", from_name="App", timeout_s=2.5
    )


def test_a_message_is_posted_in_the_v3_shape_with_the_bearer_key(install, sender) -> None:
    opener = install(lambda request: FakeResponse(202, {"X-Message-Id": "abc123"}))

    sent = sender.send(MESSAGE)

    assert (sent.message_id, sent.status) == ("abc123", 202)
    request = opener.requests[0]
    assert request.full_url == f"{BASE}/v3/mail/send"
    assert request.get_method() == "POST"
    assert request.get_header("Authorization") == f"Bearer {KEY}"
    assert opener.timeouts == [2.5]
    body = json.loads(request.data)  # type: ignore[arg-type]
    assert body["personalizations"] == [{"to": [{"email": "reader@example.com"}]}]
    assert body["from"] == {"email": "no-reply@app.test", "name": "App"}
    assert body["subject"] == "Your sign-in link"
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]


def test_429_is_rate_limited_with_the_retry_after_header(install, sender) -> None:
    install(http_error(429, {"errors": [{"message": "too many requests"}]}, {"Retry-After": "17"}))

    with pytest.raises(ProviderRateLimitedError) as caught:
        sender.send(MESSAGE)

    assert caught.value.retry_after == 17.0
    assert caught.value.provider == "sendgrid" and caught.value.status == 429


def test_429_without_retry_after_uses_sendgrids_reset_time(install, sender, monkeypatch) -> None:
    monkeypatch.setattr("services.adapters.email.time.time", lambda: 1_000_000.0)
    install(http_error(429, None, {"X-RateLimit-Reset": "1000042"}))

    with pytest.raises(ProviderRateLimitedError) as caught:
        sender.send(MESSAGE)

    assert caught.value.retry_after == 42.0


def test_429_with_no_hint_waits_the_default(install, sender) -> None:
    install(http_error(429))

    with pytest.raises(ProviderRateLimitedError) as caught:
        sender.send(MESSAGE)

    assert caught.value.retry_after == DEFAULT_RETRY_AFTER_S


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_an_auth_error_that_never_shows_the_key(install, sender, status) -> None:
    install(http_error(status, {"errors": [{"message": "authorization grant is invalid"}]}))

    with pytest.raises(ProviderAuthError) as caught:
        sender.send(MESSAGE)

    assert caught.value.status == status
    assert KEY not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_rejected_body_is_a_bad_request_naming_sendgrids_reason(install, sender) -> None:
    body = {"errors": [{"message": "Does not contain a valid address.", "field": "from.email"}]}
    install(http_error(400, body))

    with pytest.raises(ProviderBadRequestError) as caught:
        sender.send(MESSAGE)

    assert "Does not contain a valid address." in str(caught.value)
    assert "from.email" in str(caught.value)
    assert not caught.value.counts_as_failure


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_mean_unavailable(install, sender, status) -> None:
    install(http_error(status))

    with pytest.raises(ProviderUnavailableError) as caught:
        sender.send(MESSAGE)

    assert caught.value.status == status


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (urllib.error.URLError(ConnectionRefusedError(111, "refused")), ProviderUnavailableError),
        (urllib.error.URLError(TimeoutError("timed out")), ProviderTimeoutError),
        (TimeoutError("timed out"), ProviderTimeoutError),
        (ConnectionResetError(104, "reset"), ProviderUnavailableError),
    ],
)
def test_transport_failures_are_typed(install, sender, failure, expected) -> None:
    install(raises(failure))

    with pytest.raises(expected):
        sender.send(MESSAGE)


def test_neither_the_key_nor_the_link_reaches_the_logs(install, sender, caplog) -> None:
    install(http_error(429, {"errors": [{"message": "too many requests"}]}))
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ProviderRateLimitedError):
        sender.send(MESSAGE)
    install(lambda request: FakeResponse(202, {"X-Message-Id": "abc"}))
    sender.send(MESSAGE)

    assert KEY not in caplog.text
    assert LINK_TOKEN not in caplog.text


def test_retry_after_accepts_an_http_date() -> None:
    now = 1_800_000_000.0
    later = formatdate(now + 90, usegmt=True)

    assert retry_after_seconds({"Retry-After": later}, now=now) == pytest.approx(90.0)
    assert retry_after_seconds({"Retry-After": "soon"}, now=now) == DEFAULT_RETRY_AFTER_S
    assert retry_after_seconds({"Retry-After": "0"}, now=now) == 1.0


# --- What real plans answer (issue "Real keys, real plans") ----------------------------------

# SendGrid's own body for an unverified sender (sendgrid-ruby PR #489; Twilio error 60222).
SENDER_MESSAGE = (
    "The from address does not match a verified Sender Identity. Mail cannot be sent until "
    "this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/"
    "sender-identity/ to see the Sender Identity requirements"
)


def test_an_unverified_sender_is_its_own_error_keeping_sendgrids_message(install, sender) -> None:
    install(
        http_error(403, {"errors": [{"message": SENDER_MESSAGE, "field": "from", "help": None}]})
    )

    with pytest.raises(EmailSenderNotVerifiedError) as caught:
        sender.send(MESSAGE)

    error = caught.value
    assert (error.provider, error.status, error.field) == ("sendgrid", 403, "from")
    assert error.reason == SENDER_MESSAGE
    assert SENDER_MESSAGE[:60] in str(error)
    assert not isinstance(error, ProviderAuthError | ProviderBadRequestError)
    assert not counts_as_failure(error)  # our configuration, not SendGrid's health
    assert KEY not in str(error) and LINK_TOKEN not in str(error)


@pytest.mark.parametrize(
    ("status", "body", "kept"),
    [
        # A key without the mail.send permission (sendgrid-php issue #263).
        (403, {"errors": [{"field": None, "message": "access forbidden"}]}, "access forbidden"),
        (403, None, None),
        (
            401,
            {
                "errors": [
                    {
                        "message": "The provided authorization grant is invalid, expired, "
                        "or revoked",
                        "field": None,
                        "help": None,
                    }
                ]
            },
            "authorization grant is invalid",
        ),
    ],
)
def test_a_refused_key_keeps_sendgrids_message(install, sender, status, body, kept) -> None:
    install(http_error(status, body))

    with pytest.raises(ProviderAuthError) as caught:
        sender.send(MESSAGE)

    assert caught.value.status == status
    assert kept is None or kept in str(caught.value)
    assert counts_as_failure(caught.value)
    assert KEY not in str(caught.value)


def test_any_other_403_is_forbidden_with_sendgrids_message(install, sender) -> None:
    reason = "You are not authorized to access SendGrid, please contact Support."
    install(http_error(403, {"errors": [{"message": reason, "field": None, "help": None}]}))

    with pytest.raises(ProviderForbiddenError) as caught:
        sender.send(MESSAGE)

    assert (caught.value.status, caught.value.reason) == (403, reason)
    assert reason in str(caught.value)
    assert not isinstance(caught.value, ProviderAuthError | EmailSenderNotVerifiedError)
    assert counts_as_failure(caught.value)  # nothing goes through until it is lifted


def test_spent_credits_are_a_quota_signal_not_a_refused_key(install, sender) -> None:
    body = {"errors": [{"message": "Maximum credits exceeded", "field": None, "help": None}]}
    install(http_error(401, body, {"Retry-After": "600"}))

    with pytest.raises(ProviderQuotaExceededError) as caught:
        sender.send(MESSAGE)

    assert (caught.value.status, caught.value.retry_after) == (401, 600.0)
    assert caught.value.reason == "Maximum credits exceeded"
    assert not isinstance(caught.value, ProviderAuthError)
