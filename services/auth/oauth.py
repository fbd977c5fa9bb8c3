"""Signing in with Google: OAuth 2.0 authorization code with PKCE, and OpenID Connect ID tokens.

In AWS the provider is the Cognito user pool's hosted UI federating Google; locally it is the
OIDC emulator. Only settings tell them apart (`OAuthProvider.from_settings`).

Starting (`OAuthSignIn.authorize_url`): the state, the PKCE verifier and the nonce are random
secrets made here. Only the state's SHA-256 is stored, as a single-use `oauth_state` token
(`oauth_state_ttl_s`, 10 minutes) holding the verifier, the nonce, the redirect URI, the
user who asked and the hash of a browser binding; the browser only ever carries the state and
the verifier's S256 challenge. The binding (`new_binding`) is given to the client that asked,
which keeps it (never in a URL) and sends it back with the callback.

Completing (`OAuthSignIn.complete`): the state is consumed exactly once (unknown 400, used 409,
expired 410) and must come back from the browser that asked for it: with the same session,
and, when no session asked, with the same binding (else 400); the code is exchanged
with the verifier; the ID token is verified (RS256 signature against the provider's JWKS, a
joserfc `KeySet`; issuer, audience, expiry, issue time, nonce and a verified e-mail by a joserfc
claims registry); then the address's account is signed in through `AccountSignIn`, converting
the caller's anonymous session like the magic link.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet, RSAKey

from services.auth.accounts import AccountSignIn, SignIn
from services.auth.magic_link import InvalidEmailError, normalise_email
from services.auth.sessions import Principal
from services.auth.single_use import SingleUseTokens
from services.clock import Clock
from services.settings import Settings
from services.store.errors import NotFoundError, TokenExpiredError, TokenUsedError
from services.store.models import SingleUseToken, TokenKind
from services.store.sessions import token_hash
from services.store.tokens import TokenRepository

LOG = logging.getLogger(__name__)
KIND: TokenKind = "oauth_state"
PROVIDERS = ("google",)
ALGORITHM = "RS256"
# What `secrets.token_urlsafe(32)` produces; anything else cannot be one of our states.
_STATE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# Clocks of two machines disagree a little; a minute is the usual allowance.
_LEEWAY_S = 60
# Seconds a caller should wait when the provider named no delay of its own.
_RETRY_AFTER_S = 30.0


# --- errors: each maps to one HTTP status in the API --------------------------------------


class OAuthError(Exception):
    """Base of the journey's errors."""


class OAuthNotConfiguredError(OAuthError):
    """No provider settings in this environment (503)."""


class UnknownProviderError(OAuthError):
    """A provider name this service does not offer (400)."""


class InvalidStateError(OAuthError):
    """Unknown or malformed state (400)."""


class StateUsedError(OAuthError):
    """The state was already used (409)."""


class StateExpiredError(OAuthError):
    """The sign-in took longer than the state's lifetime (410)."""


# What a person is told about a state the store does not let through.
_STATE_REFUSALS = {
    NotFoundError: (InvalidStateError, "the sign-in state is not valid; start again"),
    TokenUsedError: (StateUsedError, "this sign-in was already completed; start again"),
    TokenExpiredError: (StateExpiredError, "this sign-in took too long and expired; start again"),
}
_STATES = SingleUseTokens(KIND, _STATE, _STATE_REFUSALS)


class StateMismatchError(OAuthError):
    """The callback came with another session than the one that started the sign-in (400)."""


class CodeRejectedError(OAuthError):
    """The provider refused the authorization code: unknown, used, expired or wrong verifier
    (400)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"the provider refused the sign-in code ({error}): {description}")
        self.error = error
        self.description = description


class InvalidIdTokenError(OAuthError):
    """The ID token fails a check (401); `reason` names which one."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class OAuthUnavailableError(OAuthError):
    """The provider could not be reached or answered with a failure (503)."""

    def __init__(self, message: str, retry_after_s: float = _RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OAuthProvider:
    """Where the provider is and who we are to it: Cognito's user pool, or the emulator."""

    issuer: str
    client_id: str
    authorize_url: str
    token_url: str
    jwks_url: str
    redirect_uri: str
    scopes: str = "openid email profile"
    client_secret: str | None = None
    # Cognito's `identity_provider` parameter per offered provider (straight to Google).
    identity_providers: Mapping[str, str | None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> OAuthProvider | None:
        """None when this environment has no OAuth provider configured."""
        issuer, client_id = settings.oauth_issuer, settings.oauth_client_id
        if not issuer or not client_id:
            return None
        base = issuer.rstrip("/")
        secret = settings.oauth_client_secret
        client_secret = secret.get_secret_value() if secret is not None else ""
        return cls(
            issuer=issuer,
            client_id=client_id,
            authorize_url=settings.oauth_authorize_url or f"{base}/oauth2/authorize",
            token_url=settings.oauth_token_url or f"{base}/oauth2/token",
            jwks_url=settings.oauth_jwks_url or f"{base}/.well-known/jwks.json",
            redirect_uri=settings.oauth_redirect_uri,
            scopes=settings.oauth_scopes,
            client_secret=client_secret or None,
            identity_providers={"google": settings.oauth_google_identity_provider},
        )


# --- PKCE (RFC 7636) ---------------------------------------------------------------------------


def new_verifier() -> str:
    """A code verifier: 86 characters of the unreserved set (RFC 7636 allows 43 to 128)."""
    return secrets.token_urlsafe(64)


def s256_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(verifier))), unpadded: what the provider checks the verifier
    against."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --- talking to the provider -------------------------------------------------------------------


class OidcClient:
    """The provider's token endpoint and key set over HTTP."""

    def __init__(self, provider: OAuthProvider, http: httpx.Client) -> None:
        self._provider = provider
        self._http = http

    @property
    def provider(self) -> OAuthProvider:
        return self._provider

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> str:
        """Trade the code (and the verifier that proves we asked for it) for an ID token."""
        provider = self._provider
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": provider.client_id,
            "code_verifier": verifier,
        }
        url = provider.token_url
        if provider.client_secret:
            # A confidential client authenticates with HTTP Basic, as Cognito expects.
            basic = httpx.BasicAuth(provider.client_id, provider.client_secret)
            response = self._call("token", lambda: self._http.post(url, data=form, auth=basic))
        else:
            response = self._call("token", lambda: self._http.post(url, data=form))
        body = _json_object(response)
        if response.status_code == 200:
            id_token = body.get("id_token") if body is not None else None
            if not isinstance(id_token, str) or not id_token:
                raise OAuthUnavailableError("the provider's token answer has no id_token")
            return id_token
        error = str(body.get("error", "")) if body is not None else ""
        description = str(body.get("error_description", "")) if body is not None else ""
        if response.status_code == 400 and error != "invalid_client":
            raise CodeRejectedError(error or "invalid_request", description or "no description")
        # Anything else (401 invalid_client, 403) is our configuration, not the user's doing;
        # the person signing in can only try again later.
        # The provider's words are bounded here; the log sanitiser masks what they carry.
        LOG.error(
            "oauth token endpoint answered %s %.100s: %.300s",
            response.status_code,
            error,
            description,
        )
        raise OAuthUnavailableError("the sign-in provider refused this service's credentials")

    def fetch_keys(self) -> Mapping[str, Any]:
        response = self._call("jwks", lambda: self._http.get(self._provider.jwks_url))
        body = _json_object(response)
        if response.status_code != 200 or body is None or not isinstance(body.get("keys"), list):
            raise OAuthUnavailableError("the provider's key set could not be read")
        return body

    @staticmethod
    def _call(what: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            response = send()
        except httpx.HTTPError as error:
            LOG.warning("oauth %s request failed: %s", what, type(error).__name__)
            raise OAuthUnavailableError("the sign-in provider cannot be reached") from error
        if response.status_code == 429 or response.status_code >= 500:
            LOG.warning("oauth %s endpoint answered %s", what, response.status_code)
            raise OAuthUnavailableError(
                "the sign-in provider is unavailable", _retry_after(response)
            )
        return response


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(1.0, float(response.headers.get("Retry-After", _RETRY_AFTER_S)))
    except ValueError:
        return _RETRY_AFTER_S


class JwksCache:
    """The provider's signing keys, fetched on first use and kept for `ttl_s`.

    A token naming a key we do not hold triggers one refetch (the provider rotated its keys),
    but at most every `refetch_after_s`, so tokens with invented key ids cannot make us hammer
    the provider.
    """

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        *,
        ttl_s: float = 3600.0,
        refetch_after_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._refetch_after_s = refetch_after_s
        self._monotonic = monotonic
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self.fetches = 0
        self._lock = threading.Lock()

    def key_for(self, kid: str | None) -> RSAKey | None:
        with self._lock:
            now = self._monotonic()
            if self._keys is None or now - self._fetched_at >= self._ttl_s:
                self._refresh(now)
            key = self._find(kid)
            if key is None and now - self._fetched_at >= self._refetch_after_s:
                self._refresh(now)
                key = self._find(kid)
            return key

    def _refresh(self, now: float) -> None:
        document = self._fetch()
        rsa = [
            k
            for k in document.get("keys", [])
            if isinstance(k, dict) and k.get("kty") == "RSA" and k.get("use", "sig") == "sig"
        ]
        try:
            self._keys = KeySet.import_key_set({"keys": rsa})
        except (JoseError, ValueError, TypeError) as error:
            raise OAuthUnavailableError("the provider's key set is not usable") from error
        self._fetched_at = now
        self.fetches += 1

    def _find(self, kid: str | None) -> RSAKey | None:
        assert self._keys is not None
        try:
            # Without a key id, only a set of one key answers.
            key = self._keys.get_by_kid(kid)
        except InvalidKeyIdError:
            return None
        return key if isinstance(key, RSAKey) else None


# --- the ID token ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    subject: str
    email: str


class IdTokenVerifier:
    """OpenID Connect Core 3.1.3.7, for RS256 ID tokens of one client."""

    def __init__(
        self, provider: OAuthProvider, keys: JwksCache, clock: Clock, leeway_s: int = _LEEWAY_S
    ) -> None:
        self._provider = provider
        self._keys = keys
        self._clock = clock
        self._leeway_s = leeway_s

    def verify(self, id_token: str, nonce: str) -> VerifiedIdentity:
        header = _header(id_token)
        # Only the algorithm we expect: never "none", never one the token chooses for itself.
        if header.get("alg") != ALGORITHM:
            raise InvalidIdTokenError("algorithm", f"the ID token must be signed with {ALGORITHM}")
        kid = header.get("kid")
        key = self._keys.key_for(kid if isinstance(kid, str) else None)
        if key is None:
            raise InvalidIdTokenError(
                "unknown_key", "the ID token's signing key is not the provider's"
            )
        try:
            claims = jwt.decode(id_token, key, algorithms=[ALGORITHM]).claims
        except BadSignatureError:
            raise InvalidIdTokenError(
                "signature", "the ID token's signature is not valid"
            ) from None
        except (JoseError, ValueError):
            raise InvalidIdTokenError("malformed", "the ID token is not a valid JWT") from None
        return self._check(claims, nonce)

    def _check(self, claims: dict[str, Any], nonce: str) -> VerifiedIdentity:
        now = int(self._clock().timestamp())
        try:
            IdTokenClaims(self._provider, nonce, now, self._leeway_s).validate(claims)
        except ClaimError as error:
            raise _refused_claim(error) from None
        try:
            address = normalise_email(claims["email"])
        except InvalidEmailError:
            raise InvalidIdTokenError(
                "email", "the ID token's e-mail address is not valid"
            ) from None
        return VerifiedIdentity(subject=claims["sub"], email=address)


class IdTokenClaims(jwt.JWTClaimsRegistry):
    """What the ID token of one sign-in must claim: RFC 7519's issuer, audience, expiry and
    issue time, and what OpenID Connect adds (the sign-in's nonce, the authorized party of a
    token with several audiences, a subject, a verified e-mail address)."""

    def __init__(self, provider: OAuthProvider, nonce: str, now: int, leeway_s: int) -> None:
        super().__init__(
            now=now,
            leeway=leeway_s,
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": provider.client_id},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True},
            sub={"essential": True},
            email={"essential": True},
            email_verified={"essential": True},
        )
        self._client_id = provider.client_id
        self._nonce = nonce

    def validate(self, claims: dict[str, Any]) -> None:
        super().validate(claims)
        # A token for several audiences must name this client as the party it was issued to.
        audience = claims["aud"]
        if (
            isinstance(audience, list)
            and len(audience) > 1
            and claims.get("azp") != self._client_id
        ):
            raise InvalidClaimError("azp")

    def validate_nonce(self, value: object) -> None:
        # Compared in constant time, like every secret of the sign-in.
        if not isinstance(value, str) or not hmac.compare_digest(value, self._nonce):
            raise InvalidClaimError("nonce")

    def validate_email(self, value: object) -> None:
        # Only the type here: an address that is not valid has a message of its own.
        if not isinstance(value, str):
            raise InvalidClaimError("email")

    def validate_email_verified(self, value: object) -> None:
        # An unverified address proves nothing: signing in with it could take over the
        # account of whoever really owns it. (Cognito may send the flag as a string.)
        if value not in (True, "true"):
            raise InvalidClaimError("email_verified")


# The reason and message of each claim's refusal. The registry names every missing claim at
# once; the first of them in this order is the one reported.
_CLAIM_REFUSALS: dict[str, tuple[str, str]] = {
    "iss": ("issuer", "the ID token was issued by another provider"),
    "aud": ("audience", "the ID token was issued to another client"),
    "azp": ("audience", "the ID token's authorized party is another client"),
    "exp": ("expired", "the ID token has expired"),
    "iat": ("issued_at", "the ID token's issue time is in the future"),
    "nbf": ("not_before", "the ID token is not valid yet"),
    "nonce": ("nonce", "the ID token answers another sign-in (nonce)"),
    "sub": ("subject", "the ID token names no subject"),
    "email": ("email", "the ID token carries no e-mail address"),
    "email_verified": ("email_unverified", "the provider has not verified the e-mail address"),
}


def _refused_claim(error: ClaimError) -> InvalidIdTokenError:
    """The refusal for a claim the registry refused (several missing ones come comma-separated)."""
    named = error.claim.split(",")
    claim = next((c for c in _CLAIM_REFUSALS if c in named), None)
    if claim is None:
        return InvalidIdTokenError("claims", f"the ID token's {named[0]} claim is not valid")
    return InvalidIdTokenError(*_CLAIM_REFUSALS[claim])


def _header(id_token: str) -> dict[str, Any]:
    parts = id_token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise InvalidIdTokenError("malformed", "the ID token is not a compact JWS")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidIdTokenError("malformed", "the ID token's header is not JSON") from None
    if not isinstance(header, dict):
        raise InvalidIdTokenError("malformed", "the ID token's header is not a JSON object")
    return header


# --- the journey -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OAuthSignIn:
    provider: OAuthProvider
    tokens: TokenRepository
    client: OidcClient
    verifier: IdTokenVerifier
    accounts: AccountSignIn
    settings: Settings
    clock: Clock

    def authorize_url(self, provider: str, caller: Principal | None, binding: str) -> str:
        """A fresh authorize URL for `provider`; its state works once, for a limited time,
        and only for the browser holding `binding` (and `caller`'s session, if any)."""
        _check_provider(provider)
        state, verifier, nonce = (
            secrets.token_urlsafe(32),
            new_verifier(),
            secrets.token_urlsafe(32),
        )
        now = self.clock()
        config = self.provider
        data = {
            "code_verifier": verifier,
            "nonce": nonce,
            "redirect_uri": config.redirect_uri,
            "binding_hash": token_hash(binding),
        }
        if caller is not None:
            data["started_by"] = caller.user.user_id
        self.tokens.put(
            SingleUseToken(
                token_hash=token_hash(state),
                kind=KIND,
                subject=provider,
                created_at=now,
                expires_at=now + timedelta(seconds=self.settings.oauth_state_ttl_s),
                data=data,
            )
        )
        params = {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": config.redirect_uri,
            "scope": config.scopes,
            "state": state,
            "code_challenge": s256_challenge(verifier),
            "code_challenge_method": "S256",
            "nonce": nonce,
        }
        identity_provider = (config.identity_providers or {}).get(provider)
        if identity_provider:
            params["identity_provider"] = identity_provider
        separator = "&" if urlsplit(config.authorize_url).query else "?"
        return f"{config.authorize_url}{separator}{urlencode(params)}"

    def complete(
        self,
        provider: str,
        code: str,
        state: str,
        caller: Principal | None,
        binding: str | None = None,
    ) -> SignIn:
        _check_provider(provider)
        started = self._consume(state.strip())
        if started.subject != provider:
            raise InvalidStateError("the sign-in state belongs to another provider")
        # The state is bound to whoever asked for the URL: a callback arriving with another
        # session (or none) is someone else's sign-in, and must neither sign this caller in
        # nor pull their anonymous data into that account.
        asked_by = started.data.get("started_by")
        if asked_by != (caller.user.user_id if caller is not None else None):
            raise StateMismatchError(
                "this sign-in was started by another session; start again from this page"
            )
        _check_binding(started, binding, session_bound=asked_by is not None)
        id_token = self.client.exchange(
            code, started.data["code_verifier"], started.data["redirect_uri"]
        )
        identity = self.verifier.verify(id_token, started.data["nonce"])
        LOG.info("oauth sign-in verified for subject %s", identity.subject)
        return self.accounts.sign_in(identity.email, "oauth", caller)

    def _consume(self, state: str) -> SingleUseToken:
        return _STATES.read(state, self.tokens.consume, self.clock)


def new_binding() -> str:
    """A secret for the client that asks for authorize URLs to keep, and to send back with the
    callback: it ties the state to that browser when no session does."""
    return secrets.token_urlsafe(32)


def _check_binding(started: SingleUseToken, binding: str | None, *, session_bound: bool) -> None:
    """Without a session, the binding is what proves the callback comes from the browser that
    asked: a state started elsewhere (an attacker's sign-in carried to a victim's page, login
    CSRF) is refused. With a session, a binding sent along must still be the right one."""
    expected = started.data.get("binding_hash")
    if session_bound and (binding is None or expected is None):
        return
    if (
        binding is None
        or expected is None
        or not hmac.compare_digest(token_hash(binding), expected)
    ):
        raise StateMismatchError(
            "this sign-in was started in another browser; start it again from this page"
        )


def _check_provider(provider: str) -> None:
    if provider not in PROVIDERS:
        raise UnknownProviderError(f"unknown sign-in provider {provider!r}; offered: google")
