"""The OIDC emulator over HTTP: discovery, authorize redirects, the token endpoint's PKCE,
single-use codes and client authentication, OAuth's error shape, and the real client
verifying what it issues."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from services.auth.oauth import (
    CodeRejectedError,
    IdTokenVerifier,
    JwksCache,
    OAuthProvider,
    OidcClient,
    new_verifier,
    s256_challenge,
)
from services.local.emulators.oidc import OidcEmulator

pytestmark = pytest.mark.integration

CLIENT_ID, SECRET = "workbench", "shh"
REDIRECT = "http://127.0.0.1:5006/app"


@pytest.fixture(scope="module")
def emulator() -> Iterator[OidcEmulator]:
    running = OidcEmulator(CLIENT_ID, SECRET, redirect_uris=(REDIRECT,)).start()
    yield running
    running.stop()


@pytest.fixture
def http(emulator: OidcEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, timeout=10, follow_redirects=False) as client:
        yield client
        client.delete("/_emulator/faults")


def authorize(http: httpx.Client, verifier: str, **overrides: str) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "openid email",
        "state": "st4te",
        "code_challenge": s256_challenge(verifier),
        "code_challenge_method": "S256",
        "nonce": "n0nce",
        "login_hint": "Someone@Example.com",
        **overrides,
    }
    return http.get(f"/oauth2/authorize?{urlencode(params)}")


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {k: v[-1] for k, v in parse_qs(location.query).items()}


def token(http: httpx.Client, code: str, verifier: str, **overrides: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "code_verifier": verifier,
        **overrides,
    }
    return http.post("/oauth2/token", data=form, auth=(CLIENT_ID, SECRET))


def test_discovery_names_the_endpoints_and_s256(emulator, http) -> None:
    document = http.get("/.well-known/openid-configuration").json()

    assert document["issuer"] == emulator.issuer
    assert document["token_endpoint"] == emulator.token_url
    assert document["jwks_uri"] == emulator.jwks_url
    assert document["code_challenge_methods_supported"] == ["S256"]
    (key,) = http.get("/.well-known/jwks.json").json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and "d" not in key


def test_a_wrong_verifier_fails_pkce_and_spends_the_code(http) -> None:
    verifier = new_verifier()
    back = redirect_query(authorize(http, verifier))
    assert back["state"] == "st4te"

    wrong = token(http, back["code"], new_verifier())
    right_too_late = token(http, back["code"], verifier)

    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_grant",
        "error_description": "PKCE verification failed",
    }
    assert right_too_late.status_code == 400
    assert right_too_late.json()["error_description"] == "authorization code already used"


def test_a_code_works_once(http) -> None:
    verifier = new_verifier()
    back = redirect_query(authorize(http, verifier))

    issued = token(http, back["code"], verifier)
    reused = token(http, back["code"], verifier)

    assert issued.status_code == 200, issued.text
    assert issued.headers["Cache-Control"] == "no-store"
    assert set(issued.json()) == {"id_token", "access_token", "token_type", "expires_in"}
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_the_client_must_authenticate(http) -> None:
    verifier = new_verifier()
    back = redirect_query(authorize(http, verifier))
    form = {
        "grant_type": "authorization_code",
        "code": back["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }

    response = http.post("/oauth2/token", data=form, auth=(CLIENT_ID, "wrong"))

    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_an_unregistered_redirect_uri_is_never_redirected_to(http) -> None:
    response = authorize(http, new_verifier(), redirect_uri="https://evil.example/steal")

    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "email"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
    ],
)
def test_other_authorize_problems_come_back_as_redirects(http, overrides, error) -> None:
    back = redirect_query(authorize(http, new_verifier(), **overrides))

    assert back["error"] == error and back["state"] == "st4te" and "code" not in back


def test_the_real_client_verifies_what_the_emulator_issues(emulator, http) -> None:
    verifier = new_verifier()
    back = redirect_query(authorize(http, verifier))
    provider = OAuthProvider(
        issuer=emulator.issuer,
        client_id=CLIENT_ID,
        authorize_url=emulator.authorize_url,
        token_url=emulator.token_url,
        jwks_url=emulator.jwks_url,
        redirect_uri=REDIRECT,
        client_secret=SECRET,
    )
    with httpx.Client(timeout=10) as session:
        client = OidcClient(provider, session)
        verifier_check = IdTokenVerifier(
            provider, JwksCache(client.fetch_keys), lambda: datetime.now(UTC)
        )
        identity = verifier_check.verify(client.exchange(back["code"], verifier, REDIRECT), "n0nce")
        assert identity.email == "someone@example.com" and identity.subject
        with pytest.raises(CodeRejectedError):
            client.exchange(secrets.token_urlsafe(32), verifier, REDIRECT)


def test_faults_answer_in_oauth_shape(http) -> None:
    http.post("/_emulator/faults", json={"mode": "http_500", "duration_s": 30})

    response = http.get("/.well-known/jwks.json")

    assert response.status_code == 500 and response.json()["error"] == "server_error"
