"""The SendGrid emulator over HTTP: v3 Mail Send, SendGrid's errors, the outbox, faults, and
the real sender talking to it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.adapters.email import EmailMessage, SendGridEmailSender
from services.adapters.errors import ProviderAuthError, ProviderRateLimitedError
from services.local.emulators.sendgrid import SendGridEmulator

pytestmark = pytest.mark.integration

KEY = "sg-test-key"


@pytest.fixture
def emulator() -> Iterator[SendGridEmulator]:
    running = SendGridEmulator(KEY).start()
    yield running
    running.stop()


@pytest.fixture
def http(emulator: SendGridEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        yield client


def mail(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "personalizations": [{"to": [{"email": "reader@example.com", "name": "Reader"}]}],
        "from": {"email": "no-reply@app.test"},
        "subject": "Hello",
        "content": [
            {"type": "text/plain", "value": "plain body"},
            {"type": "text/html", "value": "<p>html body</p>"},
        ],
    }
    body.update(overrides)
    return body


def post(http: httpx.Client, body: Any, key: str = KEY) -> httpx.Response:
    return http.post("/v3/mail/send", json=body, headers={"Authorization": f"Bearer {key}"})


def test_a_valid_message_is_accepted_like_sendgrid_and_lands_in_the_outbox(http) -> None:
    response = post(http, mail())

    assert response.status_code == 202
    assert response.content == b""
    message_id = response.headers["X-Message-Id"]
    assert len(message_id) == 22
    outbox = http.get("/_emulator/outbox").json()
    assert len(outbox) == 1
    message = outbox[0]
    assert message["id"] == message_id
    assert message["to"] == ["reader@example.com"]
    assert (message["from"], message["subject"]) == ("no-reply@app.test", "Hello")
    assert (message["text"], message["html"]) == ("plain body", "<p>html body</p>")
    assert message["received_at"].endswith("Z")


def test_the_outbox_filters_by_recipient_and_can_be_emptied(http) -> None:
    post(http, mail())
    other = [{"to": [{"email": "Other@Example.com"}]}]
    post(http, mail(personalizations=other, subject="For the other"))

    only = http.get("/_emulator/outbox", params={"to": "other@example.com"}).json()
    assert [m["subject"] for m in only] == ["For the other"]
    assert http.delete("/_emulator/outbox").json() == {"deleted": 2}
    assert http.get("/_emulator/outbox").json() == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (mail(personalizations=[]), ["personalizations"]),
        (mail(personalizations=[{"to": [{"email": "not-an-address"}]}]),
         ["personalizations.0.to.0.email"]),
        (mail(personalizations=[{"cc": [{"email": "a@b.co"}]}]), ["personalizations.0.to"]),
        ({k: v for k, v in mail().items() if k != "from"}, ["from.email"]),
        (mail(subject=""), ["subject"]),
        (mail(content=[]), ["content"]),
        (mail(content=[{"type": "text/html", "value": "<p>x</p>"},
                       {"type": "text/plain", "value": "x"}]), ["content.1.type"]),
        (mail(content=[{"type": "text/plain", "value": ""}]), ["content.0.value"]),
        (["not", "an", "object"], [None]),
    ],
)  # fmt: skip
def test_a_bad_body_gets_sendgrids_error_shape(http, body, fields) -> None:
    response = post(http, body)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == fields
    for error in errors:
        assert set(error) == {"message", "field", "help"} and error["message"]
    assert http.get("/_emulator/outbox").json() == []


def test_every_problem_is_listed_at_once(http) -> None:
    response = post(http, {"personalizations": [{"to": [{"email": "x"}]}]})

    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["personalizations.0.to.0.email", "from.email", "subject", "content"]


def test_a_subject_in_every_personalization_or_a_template_is_enough(http) -> None:
    per_recipient = [{"to": [{"email": "a@b.co"}], "subject": "Hi A"}]
    assert post(http, mail(subject=None, personalizations=per_recipient)).status_code == 202
    templated = {k: v for k, v in mail().items() if k not in ("subject", "content")}
    assert post(http, {**templated, "template_id": "d-123"}).status_code == 202


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", f"Token {KEY}", f"Basic {KEY}"])
def test_a_missing_or_wrong_key_is_401(http, header) -> None:
    headers = {"Authorization": header} if header else {}
    response = http.post("/v3/mail/send", json=mail(), headers=headers)

    assert response.status_code == 401
    assert response.json()["errors"][0]["message"]
    assert http.get("/_emulator/outbox").json() == []


def test_the_429_fault_answers_like_sendgrids_rate_limit_until_cleared(http) -> None:
    switched = http.post("/_emulator/faults", json={"mode": "http_429", "duration_s": 60})
    assert switched.status_code == 200 and switched.json()["mode"] == "http_429"

    limited = post(http, mail())
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["X-RateLimit-Reset"]) > 0
    assert limited.json()["errors"][0]["message"] == "too many requests"
    assert http.get("/_emulator/outbox").json() == []

    http.delete("/_emulator/faults")
    assert post(http, mail()).status_code == 202


def test_the_500_fault_uses_the_same_error_shape(http) -> None:
    http.post("/_emulator/faults", json={"mode": "http_500", "duration_s": 60})

    response = post(http, mail())

    assert response.status_code == 500
    assert set(response.json()["errors"][0]) == {"message", "field", "help"}


def test_unknown_routes_and_the_health_route(http) -> None:
    assert http.get("/_emulator/health").json() == {"status": "ok", "provider": "sendgrid"}
    missing = http.post("/v3/mail/batch", json={}, headers={"Authorization": f"Bearer {KEY}"})
    assert missing.status_code == 404
    # The news-world control routes belong to the news emulators only.
    assert http.get("/_emulator/emitted").status_code == 404


def test_it_listens_on_loopback_only(emulator) -> None:
    assert emulator.url.startswith("http://127.0.0.1:")
    assert emulator._server is not None
    assert emulator._server.server_address[0] == "127.0.0.1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
            address = probe.getsockname()[0]
        except OSError:
            address = "127.0.0.1"
    if address.startswith("127."):
        pytest.skip("this machine has no non-loopback address to try")
    with pytest.raises(OSError), socket.create_connection((address, emulator.port), timeout=2):
        pass


def test_the_real_sender_talks_to_it(emulator) -> None:
    sender = SendGridEmailSender(emulator.url, KEY, from_address="no-reply@app.test")

    sent = sender.send(EmailMessage("reader@example.com", "Link", "the text", "<p>the html</p>"))

    assert sent.status == 202 and sent.message_id
    (message,) = emulator.outbox("reader@example.com")
    assert (message.message_id, message.text, message.html) == (
        sent.message_id,
        "the text",
        "<p>the html</p>",
    )


def test_the_real_sender_maps_the_emulators_errors(emulator) -> None:
    with pytest.raises(ProviderAuthError):
        SendGridEmailSender(emulator.url, "bad", from_address="a@app.test").send(
            EmailMessage("reader@example.com", "Link", "text")
        )
    emulator.faults.set("http_429", 60)
    with pytest.raises(ProviderRateLimitedError) as caught:
        SendGridEmailSender(emulator.url, KEY, from_address="a@app.test").send(
            EmailMessage("reader@example.com", "Link", "text")
        )
    assert caught.value.retry_after == 30.0
