"""Magic-link sign-in over HTTP on the embedded stack, with the SendGrid emulator as mailbox:
request, e-mail, verify, single use, expiry, anonymous data conversion, SendGrid failures."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from services.local.stack import LocalStack
from tests.e2e.api_support import error_code, expired_token, sign_in, snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SESSION_FIELDS = {"user_id", "token", "session_id", "auth_type", "created_at", "session_expires_at"}
LINK = re.compile(r"(\S+)\?magic_token=([A-Za-z0-9_-]+)")


@pytest.fixture
def mailbox(stack: LocalStack) -> Iterator[httpx.Client]:
    assert stack.sendgrid is not None
    with httpx.Client(base_url=stack.sendgrid.url, timeout=10) as http:
        yield http
        http.delete("/_emulator/faults")


def new_address() -> str:
    return f"reader-{uuid.uuid4().hex[:10]}@example.com"


def received(mailbox: httpx.Client, address: str) -> list[dict[str, Any]]:
    response = mailbox.get("/_emulator/outbox", params={"to": address})
    assert response.status_code == 200
    messages: list[dict[str, Any]] = response.json()
    return messages


def request_link(
    client: httpx.Client, mailbox: httpx.Client, address: str, headers: dict[str, str] | None = None
) -> str:
    """Ask for a link and return the token read from the e-mail that arrived."""
    before = len(received(mailbox, address))
    response = client.post("/api/v2/auth/magic-link", json={"email": address}, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "email_sent", "expires_in_seconds": 900}
    messages = received(mailbox, address)
    assert len(messages) == before + 1
    found = LINK.search(messages[-1]["text"])
    assert found is not None, messages[-1]["text"]
    return found.group(2)


def verify(
    client: httpx.Client, token: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.post("/api/v2/auth/magic-link/verify", json={"token": token}, headers=headers)


def sign_in_by_link(
    client: httpx.Client, mailbox: httpx.Client, address: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = verify(client, request_link(client, mailbox, address, headers), headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(body: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['token']}"}


def create_config(client: httpx.Client, headers: dict[str, str], name: str) -> str:
    response = client.post(
        "/api/v2/configurations", headers=headers, json={"name": name, "tickers": ["AAPL"]}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["config_id"])


def config_ids(client: httpx.Client, headers: dict[str, str]) -> list[str]:
    response = client.get("/api/v2/configurations", headers=headers)
    assert response.status_code == 200, response.text
    return [c["config_id"] for c in response.json()["configurations"]]


def test_link_by_email_then_verify_gives_an_email_session(stack, client, mailbox) -> None:
    address = new_address()
    token = request_link(client, mailbox, f"  {address.upper()} ")

    (message,) = received(mailbox, address)
    assert message["to"] == [address]
    assert message["subject"] and message["html"]
    assert f"magic_token={token}" in message["html"]
    link = LINK.search(message["text"])
    assert link is not None and link.group(1).endswith("/app")
    assert stack.describe()["sendgrid_url"] == stack.sendgrid.url

    response = verify(client, token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == SESSION_FIELDS | {"merged"}
    assert body["auth_type"] == "email" and len(body["token"]) >= 32
    assert body["merged"] == {
        "mode": "none",
        "from_user_id": None,
        "configurations_moved": 0,
        "configurations_not_moved": 0,
    }

    me = client.get("/api/v2/auth/me", headers=bearer(body))
    assert me.status_code == 200, me.text
    assert (me.json()["auth_type"], me.json()["email"]) == ("email", address)
    assert me.json()["user_id"] == body["user_id"]
    assert me.json()["limits"]["max_configurations"] == 2
    assert me.json()["limits"]["alerts"] == "full"


def test_a_second_link_signs_in_to_the_same_account(client, mailbox) -> None:
    address = new_address()
    first = sign_in_by_link(client, mailbox, address)
    second = sign_in_by_link(client, mailbox, address)

    assert second["user_id"] == first["user_id"]
    assert second["token"] != first["token"]


def test_a_link_works_once(client, mailbox) -> None:
    token = request_link(client, mailbox, new_address())
    assert verify(client, token).status_code == 200

    again = verify(client, token)

    assert again.status_code == 409 and error_code(again) == "LINK_USED"


def test_an_expired_link_is_410(stack, client) -> None:
    token = expired_token(stack, "magic_link", new_address(), timedelta(minutes=15))

    response = verify(client, token)

    assert response.status_code == 410 and error_code(response) == "LINK_EXPIRED"


@pytest.mark.parametrize("token", [secrets.token_urlsafe(32), "short", "not a token!"])
def test_an_unknown_or_malformed_link_is_400(client, token) -> None:
    response = verify(client, token)

    assert response.status_code == 400 and error_code(response) == "INVALID_LINK"


def test_an_empty_link_token_breaks_the_schema(client) -> None:
    response = verify(client, "")

    assert response.status_code == 422 and error_code(response) == "INVALID_BODY"


@pytest.mark.parametrize(
    "body",
    [{"email": "not-an-address"}, {"email": "a@b"}, {"email": 42}, {}, {"email": "a@b.co", "x": 1}],
)
def test_a_bad_request_body_is_422(client, body) -> None:
    response = client.post("/api/v2/auth/magic-link", json=body)

    assert response.status_code == 422 and error_code(response) == "INVALID_BODY"


def test_an_anonymous_user_keeps_its_configuration_on_signing_in(client, mailbox) -> None:
    guest = sign_in(client)
    config_id = create_config(client, guest, "before signing in")
    guest_id = client.get("/api/v2/auth/me", headers=guest).json()["user_id"]

    body = sign_in_by_link(client, mailbox, new_address(), headers=guest)

    assert body["auth_type"] == "email"
    assert body["user_id"] == guest_id  # the anonymous user became the account
    assert body["merged"] == {
        "mode": "upgraded",
        "from_user_id": guest_id,
        "configurations_moved": 1,
        "configurations_not_moved": 0,
    }
    account = bearer(body)
    assert config_ids(client, account) == [config_id]
    listed = client.get("/api/v2/configurations", headers=account).json()
    assert listed["max_allowed"] == 2
    assert client.get(f"/api/v2/configurations/{config_id}", headers=account).status_code == 200
    # The anonymous bearer does not outlive the conversion.
    assert client.get("/api/v2/auth/me", headers=guest).status_code == 401


def test_merging_into_an_existing_account_respects_its_limit(client, mailbox) -> None:
    address = new_address()
    account = bearer(sign_in_by_link(client, mailbox, address))
    own = create_config(client, account, "mine")
    assert config_ids(client, account) == [own]  # now cached for 60 s

    first_guest = sign_in(client)
    fits = create_config(client, first_guest, "fits")
    merged = sign_in_by_link(client, mailbox, address, headers=first_guest)
    assert merged["merged"]["mode"] == "moved"
    assert merged["merged"]["configurations_moved"] == 1
    assert merged["merged"]["configurations_not_moved"] == 0
    assert sorted(config_ids(client, bearer(merged))) == sorted([own, fits])
    assert client.get("/api/v2/auth/me", headers=first_guest).status_code == 401

    second_guest = sign_in(client)
    create_config(client, second_guest, "does not fit")
    full = sign_in_by_link(client, mailbox, address, headers=second_guest)
    assert full["merged"]["configurations_moved"] == 0
    assert full["merged"]["configurations_not_moved"] == 1
    assert sorted(config_ids(client, bearer(full))) == sorted([own, fits])
    me = client.get("/api/v2/auth/me", headers=bearer(full)).json()
    assert me["limits"]["configurations_used"] == 2
    assert client.get("/api/v2/auth/me", headers=second_guest).status_code == 401


def test_a_stale_bearer_does_not_block_signing_in(client, mailbox) -> None:
    stale = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}

    body = sign_in_by_link(client, mailbox, new_address(), headers=stale)

    assert body["merged"]["mode"] == "none"


def test_sendgrid_rate_limit_answers_503_and_leaves_no_usable_link(stack, client, mailbox) -> None:
    address = new_address()
    fault = mailbox.post("/_emulator/faults", json={"mode": "http_429", "duration_s": 60})
    assert fault.status_code == 200

    response = client.post("/api/v2/auth/magic-link", json={"email": address})

    assert response.status_code == 503, response.text
    assert error_code(response) == "EMAIL_UNAVAILABLE"
    assert response.json()["error"]["message"] == "could not send the e-mail now; try again"
    assert int(response.headers["Retry-After"]) >= 1
    assert received(mailbox, address) == []
    unsent = [
        item
        for item in snapshot(stack)
        if item.get("kind") == "magic_link" and item.get("subject") == address
    ]
    assert len(unsent) == 1 and unsent[0].get("used_at")  # withdrawn, not left usable

    mailbox.delete("/_emulator/faults")
    assert verify(client, request_link(client, mailbox, address)).status_code == 200


def test_the_link_token_is_stored_only_as_its_hash(stack, client, mailbox) -> None:
    token = request_link(client, mailbox, new_address())

    dump = repr(snapshot(stack))

    assert token not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in dump


def test_a_link_can_be_previewed_before_it_is_used(client, mailbox) -> None:
    # Given a link sent to an address
    address = new_address()
    token = request_link(client, mailbox, address)

    # When a page opened with it asks who it is for
    preview = client.post("/api/v2/auth/magic-link/preview", json={"token": token})

    # Then it names the address, masked, and the link still works afterwards
    assert preview.status_code == 200, preview.text
    local, domain = address.split("@")
    hint = preview.json()["email_hint"]
    assert hint == f"{local[:2]}{'*' * (len(local) - 3)}{local[-1]}@{domain}"
    assert address not in preview.text
    assert verify(client, token).status_code == 200
    # And a used or unknown link is said to be so
    used = client.post("/api/v2/auth/magic-link/preview", json={"token": token})
    assert used.status_code == 409 and error_code(used) == "LINK_USED"
    unknown = client.post(
        "/api/v2/auth/magic-link/preview", json={"token": secrets.token_urlsafe(32)}
    )
    assert unknown.status_code == 400 and error_code(unknown) == "INVALID_LINK"
