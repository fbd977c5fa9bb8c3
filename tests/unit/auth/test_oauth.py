"""The OAuth journey on the in-memory repositories, with the provider's HTTP mocked (respx):
PKCE, the single-use state and its binding, every ID-token check, the key cache, provider
failures, and the anonymous conversion."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from services.auth.accounts import AccountSignIn
from services.auth.oauth import (
    CodeRejectedError,
    IdTokenVerifier,
    InvalidIdTokenError,
    InvalidStateError,
    JwksCache,
    OAuthProvider,
    OAuthSignIn,
    OAuthUnavailableError,
    OidcClient,
    StateExpiredError,
    StateMismatchError,
    StateUsedError,
    UnknownProviderError,
    new_verifier,
    s256_challenge,
)
from services.auth.sessions import Principal
from services.local.emulators.oidc import TAMPERS, Identity, Tamper, TokenSigner, id_token_claims
from services.settings import Settings
from services.store.memory import (
    InMemoryConfigurationRepository,
    InMemorySessionRepository,
    InMemoryTokenRepository,
    InMemoryUserRepository,
)
from services.store.models import SingleUseToken
from services.store.sessions import token_hash
from tests.id_token_refusals import REFUSAL_REASON
from tests.unit.auth.support import START, Accounts, Clock

pytestmark = pytest.mark.unit

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST"
CLIENT_ID = "client-123"
TOKEN_URL = "https://auth.example.test/oauth2/token"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
REDIRECT = "https://app.example.test/app"
# What the browser that asked for the authorize URL keeps (the `/oauth/urls` answer's binding).
BINDING = "binding-kept-by-the-browser-that-asked-0000000"


@pytest.fixture(scope="module")
def signer() -> TokenSigner:
    # RSA key generation takes a moment: one key for the whole module.
    return TokenSigner()


def provider(**overrides: Any) -> OAuthProvider:
    values: dict[str, Any] = {
        "issuer": ISSUER,
        "client_id": CLIENT_ID,
        "authorize_url": "https://auth.example.test/oauth2/authorize",
        "token_url": TOKEN_URL,
        "jwks_url": JWKS_URL,
        "redirect_uri": REDIRECT,
        "client_secret": "s3cret",
        "identity_providers": {"google": "Google"},
    }
    return OAuthProvider(**{**values, **overrides})


@dataclass
class World(Accounts):
    keys: JwksCache
    oauth: OAuthSignIn
    signer: TokenSigner
    http: httpx.Client

    def start(self, caller: Principal | None = None) -> tuple[str, dict[str, str]]:
        """The state of a new authorize URL, and the URL's query."""
        url = self.oauth.authorize_url("google", caller, BINDING)
        query = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
        return query["state"], query

    def stored(self, state: str) -> SingleUseToken:
        return self.tokens.tokens[token_hash(state)]


@pytest.fixture
def world(signer: TokenSigner) -> Any:
    users, sessions, tokens = (
        InMemoryUserRepository(),
        InMemorySessionRepository(),
        InMemoryTokenRepository(),
    )
    configs = InMemoryConfigurationRepository(users)
    clock, settings = Clock(), Settings()
    config = provider()
    with httpx.Client() as http:
        client = OidcClient(config, http)
        keys = JwksCache(client.fetch_keys)
        accounts = AccountSignIn(users, sessions, configs, settings, clock)
        oauth = OAuthSignIn(
            config,
            tokens,
            client,
            IdTokenVerifier(config, keys, clock),
            accounts,
            settings,
            clock,
        )
        yield World(users, sessions, tokens, configs, clock, settings, keys, oauth, signer, http)


@pytest.fixture
def provider_http(signer: TokenSigner) -> Any:
    with respx.mock(assert_all_called=False) as mock:
        mock.get(JWKS_URL).mock(return_value=httpx.Response(200, json=signer.jwks()))
        yield mock


def answer_with(
    mock: respx.MockRouter,
    world: World,
    state: str,
    *,
    email: str = "reader@example.com",
    tamper: Tamper | None = None,
    claims: dict[str, Any] | None = None,
) -> respx.Route:
    """Make the token endpoint answer the code with an ID token for the sign-in of `state`."""
    nonce = world.stored(state).data["nonce"]
    body = id_token_claims(
        issuer=ISSUER,
        client_id=CLIENT_ID,
        identity=Identity(email),
        nonce=nonce,
        now=world.clock().timestamp(),
        tamper=tamper,
    )
    body.update(claims or {})
    token = world.signer.sign(body, tamper)
    return mock.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            200,
            json={
                "id_token": token,
                "access_token": "a",
                "token_type": "Bearer",
                "expires_in": 3600,
            },
        )
    )


# --- PKCE ------------------------------------------------------------------------------------


def test_the_s256_challenge_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

    assert s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifiers_are_long_random_and_of_the_unreserved_set() -> None:
    verifiers = {new_verifier() for _ in range(20)}

    assert len(verifiers) == 20
    for verifier in verifiers:
        assert 43 <= len(verifier) <= 128
        assert set(verifier) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
        )


# --- starting --------------------------------------------------------------------------------


def test_the_authorize_url_carries_pkce_and_only_the_state_hash_is_kept(world) -> None:
    guest = world.guest()
    state, query = world.start(guest)

    assert query["response_type"] == "code"
    assert (query["client_id"], query["redirect_uri"]) == (CLIENT_ID, REDIRECT)
    assert query["scope"] == "openid email profile"
    assert query["code_challenge_method"] == "S256"
    assert query["identity_provider"] == "Google"
    (stored,) = world.tokens.tokens.values()
    assert stored.kind == "oauth_state" and stored.subject == "google"
    assert stored.token_hash == token_hash(state) and state not in repr(stored)
    assert stored.expires_at == START + timedelta(minutes=10)
    assert s256_challenge(stored.data["code_verifier"]) == query["code_challenge"]
    assert stored.data["code_verifier"] not in query.values()
    assert stored.data["nonce"] == query["nonce"]
    assert stored.data["started_by"] == guest.user.user_id
    assert stored.data["redirect_uri"] == REDIRECT


def test_every_authorize_url_has_its_own_state_verifier_and_nonce(world) -> None:
    (a, qa), (b, qb) = world.start(), world.start()

    assert a != b and qa["nonce"] != qb["nonce"] and qa["code_challenge"] != qb["code_challenge"]
    assert "started_by" not in world.stored(a).data


def test_only_google_is_offered(world) -> None:
    with pytest.raises(UnknownProviderError):
        world.oauth.authorize_url("github", None, BINDING)


def test_settings_without_a_provider_mean_no_oauth() -> None:
    assert OAuthProvider.from_settings(Settings()) is None


def test_cognito_settings_need_only_the_issuer_for_the_keys() -> None:
    configured = OAuthProvider.from_settings(
        Settings(
            oauth_issuer=ISSUER,
            oauth_client_id=CLIENT_ID,
            oauth_authorize_url="https://auth.example.test/oauth2/authorize",
            oauth_token_url=TOKEN_URL,
        )
    )

    assert configured is not None
    assert configured.jwks_url == JWKS_URL
    assert configured.client_secret is None


# --- completing --------------------------------------------------------------------------------


def test_a_callback_exchanges_the_code_with_the_verifier_and_signs_in(world, provider_http) -> None:
    state, _ = world.start()
    route = answer_with(provider_http, world, state, email="Reader@Example.com")

    signed = world.oauth.complete("google", "the-code", state, None, BINDING)

    assert signed.issued.session.auth_type == "oauth"
    assert signed.issued.user.email == "reader@example.com"
    assert signed.created and signed.merge.mode == "none"
    request = route.calls.last.request
    form = {k: v[-1] for k, v in parse_qs(request.content.decode()).items()}
    assert form == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "code_verifier": world.stored(state).data["code_verifier"],
    }
    expected = base64.b64encode(f"{CLIENT_ID}:s3cret".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


def test_a_second_sign_in_reaches_the_same_account(world, provider_http) -> None:
    first_state, _ = world.start()
    answer_with(provider_http, world, first_state)
    first = world.oauth.complete("google", "c1", first_state, None, BINDING)
    second_state, _ = world.start()
    answer_with(provider_http, world, second_state)

    second = world.oauth.complete("google", "c2", second_state, None, BINDING)

    assert second.issued.user.user_id == first.issued.user.user_id and not second.created


def test_a_state_works_once(world, provider_http) -> None:
    state, _ = world.start()
    answer_with(provider_http, world, state)
    world.oauth.complete("google", "code", state, None, BINDING)

    with pytest.raises(StateUsedError):
        world.oauth.complete("google", "code", state, None, BINDING)


def test_a_state_expires_after_ten_minutes(world) -> None:
    state, _ = world.start()
    world.clock.now = START + timedelta(minutes=10, seconds=1)

    with pytest.raises(StateExpiredError):
        world.oauth.complete("google", "code", state, None, BINDING)


@pytest.mark.parametrize("state", ["x" * 43, "too-short", "not a state at all, with spaces......."])
def test_an_unknown_or_malformed_state_is_invalid(world, state) -> None:
    with pytest.raises(InvalidStateError):
        world.oauth.complete("google", "code", state, None, BINDING)


def test_a_callback_from_another_session_is_refused_and_merges_nothing(world) -> None:
    owner, stranger = world.guest(), world.guest(configs=1)
    state, _ = world.start(owner)

    with pytest.raises(StateMismatchError):
        world.oauth.complete("google", "code", state, stranger)
    assert world.users.find_by_email("reader@example.com") is None
    assert len(world.configs.list_for_user(stranger.user.user_id)) == 1


def test_a_sign_in_started_without_a_session_cannot_be_finished_with_one(world) -> None:
    state, _ = world.start(None)

    with pytest.raises(StateMismatchError):
        world.oauth.complete("google", "code", state, world.guest(configs=1))


def test_a_state_started_without_a_session_is_bound_to_the_browser_that_asked(world) -> None:
    # Given a sign-in started without a session (the attacker's, carried to a victim's page)
    state, _ = world.start(None)
    # Then only its binding's hash is kept with the state
    assert world.stored(state).data["binding_hash"] == token_hash(BINDING)
    assert BINDING not in world.stored(state).data.values()

    # When another browser (no binding, or its own) sends the callback, Then it is refused
    # before the code is exchanged (no provider is set up to answer here)
    with pytest.raises(StateMismatchError, match="another browser"):
        world.oauth.complete("google", "code", state, None)
    other, _ = world.start(None)
    with pytest.raises(StateMismatchError, match="another browser"):
        world.oauth.complete("google", "code", other, None, "a-binding-of-another-browser")


def test_a_session_bound_state_refuses_a_wrong_binding(world) -> None:
    guest = world.guest()
    state, _ = world.start(guest)

    with pytest.raises(StateMismatchError):
        world.oauth.complete("google", "code", state, guest, "a-binding-of-another-browser")


def test_an_anonymous_user_becomes_the_account_with_its_configuration(world, provider_http) -> None:
    guest = world.guest(configs=1)
    state, _ = world.start(guest)
    answer_with(provider_http, world, state)

    signed = world.oauth.complete("google", "code", state, guest)

    assert signed.merge.mode == "upgraded" and signed.merge.configurations_moved == 1
    assert signed.issued.user.user_id == guest.user.user_id
    assert world.users.get(guest.user.user_id).auth_type == "oauth"
    assert not world.sessions.by_token[guest.session.token_hash].is_active(world.clock())


# --- the ID token ------------------------------------------------------------------------------


def test_every_emulator_tamper_has_an_expected_reason() -> None:
    assert set(REFUSAL_REASON) == set(TAMPERS)


@pytest.mark.parametrize("tamper", TAMPERS)
def test_a_tampered_id_token_is_refused_with_its_reason(world, provider_http, tamper) -> None:
    state, _ = world.start()
    answer_with(provider_http, world, state, tamper=tamper)

    with pytest.raises(InvalidIdTokenError) as refused:
        world.oauth.complete("google", "code", state, None, BINDING)

    assert refused.value.reason == REFUSAL_REASON[tamper]
    assert world.users.find_by_email("reader@example.com") is None


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iat": START.timestamp() + 600}, "issued_at"),
        ({"aud": [CLIENT_ID, "other"]}, "audience"),
        ({"sub": ""}, "subject"),
        ({"email": None}, "email"),
        ({"email": "not-an-address"}, "email"),
        ({"email_verified": "false"}, "email_unverified"),
        ({"exp": "tomorrow"}, "expired"),
        ({"email_verified": [True]}, "email_unverified"),
        ({"nbf": START.timestamp() + 600}, "not_before"),
        ({"jti": 7}, "claims"),
        # Of several missing claims, the first of the checks' order is named
        ({"email": None, "iss": None}, "issuer"),
    ],
)
def test_other_bad_claims_are_refused(world, provider_http, claims, reason) -> None:
    state, _ = world.start()
    answer_with(provider_http, world, state, claims=claims)

    with pytest.raises(InvalidIdTokenError) as refused:
        world.oauth.complete("google", "code", state, None, BINDING)

    assert refused.value.reason == reason


@pytest.mark.parametrize(
    "claims",
    [
        {"email_verified": "true"},  # Cognito may send the flag as a string
        {"aud": [CLIENT_ID, "other"], "azp": CLIENT_ID},
        {"exp": START.timestamp() - 30},  # within the clock-skew allowance
    ],
)
def test_acceptable_variants_of_the_claims(world, provider_http, claims) -> None:
    state, _ = world.start()
    answer_with(provider_http, world, state, claims=claims)

    assert world.oauth.complete("google", "code", state, None, BINDING).issued.user.email


def test_keys_are_fetched_once_for_many_sign_ins(world, provider_http) -> None:
    for code in ("a", "b", "c"):
        state, _ = world.start()
        answer_with(provider_http, world, state)
        world.oauth.complete("google", code, state, None, BINDING)

    assert world.keys.fetches == 1
    assert provider_http.routes[0].call_count == 1


def test_a_token_under_an_unknown_key_triggers_at_most_one_refetch_per_interval(
    signer,
) -> None:
    fetched: list[int] = []
    ticks = iter([0.0, 1.0, 2.0, 120.0, 121.0, 122.0])

    def fetch() -> dict[str, Any]:
        fetched.append(1)
        return signer.jwks()

    cache = JwksCache(fetch, refetch_after_s=60.0, monotonic=lambda: next(ticks))

    assert cache.key_for(signer.kid) is not None  # t=0: first fetch
    assert cache.key_for("forged") is None  # t=1: too soon to refetch
    assert cache.key_for("forged") is None  # t=2: still too soon
    assert len(fetched) == 1
    assert cache.key_for("forged") is None  # t=120: one refetch
    assert len(fetched) == 2


def test_without_a_key_id_only_a_set_of_one_key_answers(signer) -> None:
    other = TokenSigner()
    alone = JwksCache(signer.jwks)
    pair = JwksCache(lambda: {"keys": [*signer.jwks()["keys"], *other.jwks()["keys"]]})

    assert alone.key_for(None) is not None
    assert pair.key_for(None) is None
    assert pair.key_for(other.kid) is not None


def test_keys_other_than_rsa_signing_keys_are_left_out(signer) -> None:
    encryption = {**signer.jwks()["keys"][0], "use": "enc"}
    cache = JwksCache(lambda: {"keys": [encryption, {"kty": "oct", "k": "c2VjcmV0", "kid": "x"}]})

    with pytest.raises(OAuthUnavailableError):
        cache.key_for(signer.kid)


def test_a_rotated_key_is_found_after_a_refetch(signer) -> None:
    rotated = TokenSigner()
    documents = iter([signer.jwks(), rotated.jwks()])
    ticks = iter([0.0, 100.0])
    cache = JwksCache(lambda: next(documents), monotonic=lambda: next(ticks))

    assert cache.key_for(signer.kid) is not None
    assert cache.key_for(rotated.kid) is not None
    assert cache.fetches == 2


# --- the provider failing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (
            httpx.Response(400, json={"error": "invalid_grant", "error_description": "used"}),
            CodeRejectedError,
        ),
        (httpx.Response(500, json={"error": "server_error"}), OAuthUnavailableError),
        (httpx.Response(401, json={"error": "invalid_client"}), OAuthUnavailableError),
        (httpx.Response(200, json={"access_token": "only"}), OAuthUnavailableError),
        (httpx.Response(200, text="<html>"), OAuthUnavailableError),
        (httpx.ConnectError("refused"), OAuthUnavailableError),
        (httpx.ReadTimeout("slow"), OAuthUnavailableError),
    ],
)
def test_token_endpoint_failures(world, provider_http, response, error) -> None:
    state, _ = world.start()
    route = provider_http.post(TOKEN_URL)
    if isinstance(response, Exception):
        route.mock(side_effect=response)
    else:
        route.mock(return_value=response)

    with pytest.raises(error):
        world.oauth.complete("google", "code", state, None, BINDING)


def test_a_provider_rate_limit_passes_its_retry_after_on(world, provider_http) -> None:
    state, _ = world.start()
    provider_http.post(TOKEN_URL).mock(
        return_value=httpx.Response(429, headers={"Retry-After": "42"}, json={})
    )

    with pytest.raises(OAuthUnavailableError) as unavailable:
        world.oauth.complete("google", "code", state, None, BINDING)

    assert unavailable.value.retry_after_s == 42.0


def test_an_unreadable_key_set_means_the_provider_is_unavailable(world, provider_http) -> None:
    state, _ = world.start()
    answer_with(provider_http, world, state)
    provider_http.get(JWKS_URL).mock(return_value=httpx.Response(200, json={"nope": []}))

    with pytest.raises(OAuthUnavailableError):
        world.oauth.complete("google", "code", state, None, BINDING)


def test_a_header_that_is_not_json_is_malformed(world, provider_http) -> None:
    state, _ = world.start()
    provider_http.post(TOKEN_URL).mock(
        return_value=httpx.Response(200, json={"id_token": "bm90IGpzb24.e30.c2ln"})
    )

    with pytest.raises(InvalidIdTokenError) as refused:
        world.oauth.complete("google", "code", state, None, BINDING)

    assert refused.value.reason == "malformed"


def test_json_is_what_the_emulator_signs(signer) -> None:
    token = signer.sign({"a": 1})
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))

    assert header == {"alg": "RS256", "typ": "JWT", "kid": signer.kid}
