"""OAuth sign-in over HTTP on the embedded stack, with the OIDC emulator as the provider:
authorize URLs, the browser's trip to the provider, the callback, single-use and expiring
state, every tampered ID token refused, the provider down, anonymous data conversion."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from services.local.emulators.oidc import TAMPERS
from services.local.stack import LocalStack
from services.store.table import dynamodb_table
from services.store.users import DynamoUserRepository
from tests.e2e.api_support import error_code, expired_token, sign_in, snapshot
from tests.id_token_refusals import REFUSAL_REASON

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SESSION_FIELDS = {"user_id", "token", "session_id", "auth_type", "created_at", "session_expires_at"}


@pytest.fixture
def provider(stack: LocalStack) -> Iterator[httpx.Client]:
    """The browser's side of the provider, and its control routes (cleaned after each test)."""
    assert stack.oidc is not None
    with httpx.Client(base_url=stack.oidc.url, timeout=10, follow_redirects=False) as http:
        yield http
        http.delete("/_emulator/faults")
        http.delete("/_emulator/next-token")


def new_address() -> str:
    return f"reader-{uuid.uuid4().hex[:10]}@example.com"


def bearer(body: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['token']}"}


# What this test "browser" keeps from each `/oauth/urls` answer: the binding of each state.
BINDINGS: dict[str, str] = {}


def kept(urls: httpx.Response) -> str:
    """The Google authorize URL of an `/oauth/urls` answer, its binding kept for its state."""
    url = str(urls.json()["providers"]["google"]["authorize_url"])
    BINDINGS[parse_qs(urlsplit(url).query)["state"][0]] = urls.json()["binding"]
    return url


def authorize_url(client: httpx.Client, headers: dict[str, str] | None = None) -> str:
    response = client.get("/api/v2/auth/oauth/urls", headers=headers)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"providers", "binding"}
    assert set(response.json()["providers"]) == {"google"}
    return kept(response)


def visit_provider(provider: httpx.Client, url: str, address: str) -> dict[str, str]:
    """What the browser does: open the authorize URL (the emulator signs `address` in) and
    come back to the workbench with the query of the redirect."""
    # Appended by hand: httpx's `params=` would replace the URL's own query.
    response = provider.get(f"{url}&{urlencode({'login_hint': address})}")
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}".endswith("/app")
    return {k: v[-1] for k, v in parse_qs(location.query).items()}


def callback(
    client: httpx.Client, back: dict[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    body = {"provider": "google", "code": back["code"], "state": back["state"]}
    if back["state"] in BINDINGS:
        body["binding"] = BINDINGS[back["state"]]
    return client.post("/api/v2/auth/oauth/callback", json=body, headers=headers)


def sign_in_with_google(
    client: httpx.Client,
    provider: httpx.Client,
    address: str,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return callback(
        client, visit_provider(provider, authorize_url(client, headers), address), headers
    )


def account_of(stack: LocalStack, address: str) -> Any:
    return DynamoUserRepository(dynamodb_table(stack.settings)).find_by_email(address)  # type: ignore[arg-type]


def test_signing_in_with_google_gives_an_oauth_session(stack, client, provider) -> None:
    address = new_address()
    urls = client.get("/api/v2/auth/oauth/urls")
    assert urls.headers["Cache-Control"] == "no-store"
    url = kept(urls)
    assert url.startswith(stack.describe()["oidc_url"] + "/oauth2/authorize?")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]

    back = visit_provider(provider, url, address)
    assert back["state"] == query["state"][0]
    response = callback(client, back)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == SESSION_FIELDS | {"merged"}
    assert body["auth_type"] == "oauth" and len(body["token"]) >= 32
    assert body["merged"]["mode"] == "none"
    me = client.get("/api/v2/auth/me", headers=bearer(body))
    assert me.status_code == 200, me.text
    assert (me.json()["auth_type"], me.json()["email"]) == ("oauth", address)
    assert me.json()["user_id"] == body["user_id"]
    assert me.json()["limits"]["max_configurations"] == 2
    (issued,) = [c for c in provider.get("/_emulator/issued").json() if c["email"] == address]
    assert issued["aud"] == stack.settings.oauth_client_id


def test_a_second_sign_in_reaches_the_same_account(client, provider) -> None:
    address = new_address()
    first = sign_in_with_google(client, provider, address)
    second = sign_in_with_google(client, provider, address)

    assert first.status_code == second.status_code == 200
    assert first.json()["user_id"] == second.json()["user_id"]
    assert first.json()["token"] != second.json()["token"]


def test_a_state_works_once(client, provider) -> None:
    back = visit_provider(provider, authorize_url(client), new_address())
    assert callback(client, back).status_code == 200

    again = callback(client, back)

    assert again.status_code == 409 and error_code(again) == "STATE_USED"


def test_an_expired_state_is_410(stack, client) -> None:
    flow = {"code_verifier": "v" * 43, "nonce": "n", "redirect_uri": "http://x/app"}
    state = expired_token(stack, "oauth_state", "google", timedelta(minutes=10), flow)

    response = callback(client, {"code": "whatever", "state": state})

    assert response.status_code == 410 and error_code(response) == "STATE_EXPIRED"


@pytest.mark.parametrize("state", [secrets.token_urlsafe(32), "short", "not a state!"])
def test_an_unknown_state_is_400(client, state) -> None:
    response = callback(client, {"code": "whatever", "state": state})

    assert response.status_code == 400 and error_code(response) == "INVALID_STATE"


@pytest.mark.parametrize("tamper", TAMPERS)
def test_a_tampered_id_token_is_refused(stack, client, provider, tamper) -> None:
    assert set(REFUSAL_REASON) == set(TAMPERS)
    address = new_address()
    switched = provider.post("/_emulator/next-token", json={"tamper": tamper})
    assert switched.status_code == 200

    response = sign_in_with_google(client, provider, address)

    assert response.status_code == 401, response.text
    assert error_code(response) == "INVALID_ID_TOKEN"
    assert response.json()["error"]["details"] == {"reason": REFUSAL_REASON[tamper]}
    assert account_of(stack, address) is None
    # The tamper was for one token only: the next sign-in works.
    assert sign_in_with_google(client, provider, address).status_code == 200


def test_an_anonymous_configuration_is_carried_into_the_account(client, provider) -> None:
    guest = sign_in(client)
    created = client.post(
        "/api/v2/configurations", headers=guest, json={"name": "mine", "tickers": ["AAPL"]}
    )
    assert created.status_code == 201, created.text
    guest_id = client.get("/api/v2/auth/me", headers=guest).json()["user_id"]

    response = sign_in_with_google(client, provider, new_address(), headers=guest)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_id"] == guest_id
    assert body["merged"] == {
        "mode": "upgraded",
        "from_user_id": guest_id,
        "configurations_moved": 1,
        "configurations_not_moved": 0,
    }
    listed = client.get("/api/v2/configurations", headers=bearer(body)).json()
    assert [c["config_id"] for c in listed["configurations"]] == [created.json()["config_id"]]
    assert listed["max_allowed"] == 2
    assert client.get("/api/v2/auth/me", headers=guest).status_code == 401


def test_a_configuration_joins_an_existing_account(client, provider) -> None:
    address = new_address()
    account = bearer(sign_in_with_google(client, provider, address).json())
    guest = sign_in(client)
    created = client.post(
        "/api/v2/configurations", headers=guest, json={"name": "later", "tickers": ["MSFT"]}
    )
    assert created.status_code == 201

    body = sign_in_with_google(client, provider, address, headers=guest).json()

    assert body["merged"]["mode"] == "moved" and body["merged"]["configurations_moved"] == 1
    ids = [
        c["config_id"]
        for c in client.get("/api/v2/configurations", headers=account).json()["configurations"]
    ]
    assert ids == [created.json()["config_id"]]


def test_a_callback_with_another_session_is_refused(stack, client, provider) -> None:
    starter, other = sign_in(client), sign_in(client)
    address = new_address()
    back = visit_provider(provider, authorize_url(client, starter), address)

    response = callback(client, back, other)

    assert response.status_code == 400 and error_code(response) == "STATE_MISMATCH"
    assert account_of(stack, address) is None
    assert client.get("/api/v2/auth/me", headers=other).status_code == 200


def test_a_sign_in_started_in_another_browser_is_refused(stack, client, provider) -> None:
    # Given an attacker who started a sign-in without a session and signed in at the provider
    attacker = new_address()
    back = visit_provider(provider, authorize_url(client), attacker)

    # When the victim's page posts the callback it was sent (it holds no binding for it)
    response = client.post(
        "/api/v2/auth/oauth/callback",
        json={"provider": "google", "code": back["code"], "state": back["state"]},
    )

    # Then it is refused, and nobody is signed in as the attacker
    assert response.status_code == 400 and error_code(response) == "STATE_MISMATCH"
    assert "another browser" in response.json()["error"]["message"]
    assert account_of(stack, attacker) is None
    # And the state is spent: the attacker's own browser cannot use it afterwards either
    assert callback(client, back).status_code == 409


def test_a_code_the_provider_refuses_is_400(client, provider) -> None:
    back = visit_provider(provider, authorize_url(client), new_address())

    response = callback(client, {**back, "code": secrets.token_urlsafe(32)})

    assert response.status_code == 400 and error_code(response) == "INVALID_CODE"
    assert response.json()["error"]["details"] == {"provider_error": "invalid_grant"}


def test_the_provider_down_is_503_with_retry_after(client, provider) -> None:
    back = visit_provider(provider, authorize_url(client), new_address())
    fault = provider.post("/_emulator/faults", json={"mode": "http_500", "duration_s": 60})
    assert fault.status_code == 200

    response = callback(client, back)

    assert response.status_code == 503, response.text
    assert error_code(response) == "OAUTH_UNAVAILABLE"
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "github", "code": "c", "state": "s"},
        {"provider": "google", "code": "", "state": "s"},
        {"provider": "google", "code": "c"},
        {"provider": "google", "code": "c", "state": "s", "extra": 1},
    ],
)
def test_a_bad_callback_body_is_422(client, body) -> None:
    response = client.post("/api/v2/auth/oauth/callback", json=body)

    assert response.status_code == 422 and error_code(response) == "INVALID_BODY"


def test_the_state_is_stored_only_as_its_hash(stack, client) -> None:
    url = authorize_url(client)
    state = parse_qs(urlsplit(url).query)["state"][0]

    dump = repr(snapshot(stack))

    assert state not in dump
    assert hashlib.sha256(state.encode()).hexdigest() in dump


def test_the_openapi_document_describes_both_routes(client) -> None:
    document = client.get("/api/v2/openapi.json").json()
    urls = document["paths"]["/api/v2/auth/oauth/urls"]["get"]
    callback_route = document["paths"]["/api/v2/auth/oauth/callback"]["post"]

    assert "OAuthUrls" in str(urls["responses"]["200"])
    assert "SignedInOut" in str(callback_route["responses"]["200"])
    assert {"400", "401", "409", "410", "503"} <= set(callback_route["responses"])
    schema = document["components"]["schemas"]["OAuthCallbackIn"]
    assert schema["properties"]["provider"].get(
        "enum", [schema["properties"]["provider"].get("const")]
    ) == ["google"]
