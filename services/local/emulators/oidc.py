"""An OpenID Connect provider on 127.0.0.1, standing in for Cognito's hosted UI federating Google.

Provider routes, shaped like Cognito's OAuth 2.0 endpoints:

- `GET  /.well-known/openid-configuration`  the discovery document
- `GET  /.well-known/jwks.json`             the public signing key (RS256, made at start)
- `GET  /oauth2/authorize`                  `response_type=code`, `client_id`, `redirect_uri`,
  `state`, `code_challenge` + `code_challenge_method=S256`, `nonce`, `scope` (with `openid`).
  Nobody types a password here: the test identity is signed in at once and the browser is sent
  back (302) to `redirect_uri?code=...&state=...`. A wrong client or redirect URI answers 400
  (it must never redirect to an unregistered address); other problems redirect with `error=`.
- `POST /oauth2/token`                      form body, `grant_type=authorization_code`; the
  client authenticates with HTTP Basic (or `client_secret` in the form) when it has a secret;
  the code works once, for 5 minutes, only with the verifier whose S256 hash was the
  challenge. Answers `{id_token, access_token, token_type, expires_in}`, errors in OAuth's
  `{"error", "error_description"}` shape (400, 401 for the client).

Who signs in: the authorize request's `login_hint=<email>`, else the default identity.

Control routes (never at the provider), besides `/_emulator/faults` and `/_emulator/health`:

- `POST   /_emulator/identity {"email", "email_verified"?, "name"?}`  the default identity
- `POST   /_emulator/next-token {"tamper": <one of TAMPERS>}`  the next ID token is wrong on
  purpose, so a client's checks can be proven; `DELETE` cancels it
- `GET    /_emulator/issued`  the claims of every ID token issued (the oracle), oldest first
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from services.local.emulators.base import HttpEmulator, HttpError, Request, Response

Tamper = Literal[
    "audience",  # aud names another client
    "issuer",  # iss is another provider
    "expired",  # exp an hour in the past (iat two hours)
    "nonce",  # a nonce the client never sent
    "signature",  # signed by a key that is not in the JWKS (same kid)
    "alg_none",  # unsigned, `"alg": "none"`
    "unverified_email",  # email_verified false
    "malformed",  # not a compact JWS at all
]
TAMPERS: tuple[Tamper, ...] = get_args(Tamper)

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"
AUTHORIZE_PATH = "/oauth2/authorize"
TOKEN_PATH = "/oauth2/token"  # noqa: S105 (a path, not a secret)
CODE_TTL_S = 300.0
TOKEN_TTL_S = 3600
DEFAULT_EMAIL = "reader@example.com"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# RFC 7636: 43 to 128 characters from the unreserved set.
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
CLAIMS = (
    "iss",
    "aud",
    "sub",
    "email",
    "email_verified",
    "name",
    "nonce",
    "iat",
    "exp",
    "auth_time",
)
_ERROR_CODES = {
    400: "invalid_request",
    401: "invalid_client",
    404: "invalid_request",
    429: "slow_down",
    500: "server_error",
    503: "temporarily_unavailable",
}


@dataclass(frozen=True)
class Identity:
    """The person the emulator signs in."""

    email: str
    email_verified: bool = True
    name: str | None = None

    @property
    def subject(self) -> str:
        # Stable per address across restarts, like a provider's user id.
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"oidc-emulator:{self.email.lower()}"))


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    scope: str
    identity: Identity
    expires_at: float
    used: bool = False


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier: BASE64URL(SHA256(ASCII(verifier)))."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


class TokenSigner:
    """The provider's RS256 signing key, and ID tokens signed with it (or tampered with)."""

    def __init__(self) -> None:
        self.kid = secrets.token_hex(8)
        self.key = RSAKey.generate_key(
            2048, parameters={"kid": self.kid, "use": "sig", "alg": "RS256"}
        )
        self._rogue: RSAKey | None = None

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def sign(self, claims: dict[str, Any], tamper: Tamper | None = None) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        if tamper == "alg_none":
            unsigned = {**header, "alg": "none"}
            parts = (json.dumps(unsigned).encode(), json.dumps(claims).encode())
            return ".".join(_b64url(p) for p in parts) + "."
        if tamper == "signature":
            if self._rogue is None:
                self._rogue = RSAKey.generate_key(2048, parameters={"kid": self.kid})
            return jwt.encode(header, claims, self._rogue, algorithms=["RS256"])
        token = jwt.encode(header, claims, self.key, algorithms=["RS256"])
        if tamper == "malformed":
            return token.rsplit(".", 1)[0]
        return token


def id_token_claims(
    *,
    issuer: str,
    client_id: str,
    identity: Identity,
    nonce: str | None,
    now: float,
    tamper: Tamper | None = None,
) -> dict[str, Any]:
    """An ID token's claims as Cognito issues them for a federated Google user."""
    issued = int(now) - (2 * TOKEN_TTL_S if tamper == "expired" else 0)
    claims: dict[str, Any] = {
        "iss": "https://accounts.example.invalid" if tamper == "issuer" else issuer,
        "aud": "another-client" if tamper == "audience" else client_id,
        "sub": identity.subject,
        "email": identity.email,
        "email_verified": identity.email_verified and tamper != "unverified_email",
        "token_use": "id",
        "auth_time": issued,
        "iat": issued,
        "exp": issued + TOKEN_TTL_S,
    }
    if identity.name:
        claims["name"] = identity.name
    if tamper == "nonce":
        claims["nonce"] = secrets.token_urlsafe(16)
    elif nonce is not None:
        claims["nonce"] = nonce
    return claims


class OidcEmulator(HttpEmulator):
    """Authorization code + PKCE with RS256 ID tokens, for one registered client."""

    provider = "oidc"

    def __init__(
        self,
        client_id: str,
        client_secret: str | None = None,
        *,
        redirect_uris: tuple[str, ...] = (),
        port: int = 0,
    ) -> None:
        super().__init__(client_secret or "", port=port)
        self.client_id = client_id
        self.client_secret = client_secret
        # Empty: any http(s) URI is accepted (handy in tests); else exact matches only.
        self.redirect_uris = redirect_uris
        self.signer = TokenSigner()
        self.default_identity = Identity(DEFAULT_EMAIL, name="Test Reader")
        self._grants: dict[str, _Grant] = {}
        self._tamper: Tamper | None = None
        self._issued: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.route("GET", _exact(DISCOVERY_PATH), self._discovery)
        self.route("GET", _exact(JWKS_PATH), lambda _: Response(200, self.signer.jwks()))
        self.route("GET", _exact(AUTHORIZE_PATH), self._authorize)
        self.route("POST", _exact(TOKEN_PATH), self._token)

    # --- settings a client needs --------------------------------------------------------

    @property
    def issuer(self) -> str:
        return self.root_url

    @property
    def authorize_url(self) -> str:
        return f"{self.root_url}{AUTHORIZE_PATH}"

    @property
    def token_url(self) -> str:
        return f"{self.root_url}{TOKEN_PATH}"

    @property
    def jwks_url(self) -> str:
        return f"{self.root_url}{JWKS_PATH}"

    # --- provider hooks -------------------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        # The discovery, key and authorize routes are public; the token route authenticates
        # the client itself, to answer in OAuth's terms.
        return True

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        code = _ERROR_CODES.get(status, "server_error")
        return Response(status, {"error": code, "error_description": message}, headers or {})

    # --- provider routes --------------------------------------------------------------------

    def _discovery(self, _: Request) -> Response:
        return Response(
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.authorize_url,
                "token_endpoint": self.token_url,
                "jwks_uri": self.jwks_url,
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                    "none",
                ],
                "claims_supported": list(CLAIMS),
            },
        )

    def _authorize(self, request: Request) -> Response:
        q = request.query
        if q.get("client_id") != self.client_id:
            raise HttpError(self._oauth_error(400, "invalid_client", "unknown client_id"))
        redirect_uri = q.get("redirect_uri", "")
        if not self._registered(redirect_uri):
            raise HttpError(
                self._oauth_error(400, "invalid_request", "redirect_uri is not registered")
            )
        state = q.get("state")

        def refuse(error: str, description: str) -> Response:
            return _redirect(
                redirect_uri,
                {"error": error, "error_description": description, "state": state},
            )

        if q.get("response_type") != "code":
            return refuse("unsupported_response_type", "only response_type=code is supported")
        if "openid" not in q.get("scope", "").split():
            return refuse("invalid_scope", "scope must include openid")
        challenge = q.get("code_challenge", "")
        if q.get("code_challenge_method") != "S256" or not re.fullmatch(r"[\w-]{43}", challenge):
            return refuse("invalid_request", "a code_challenge with method S256 is required")
        identity = self.default_identity
        hint = q.get("login_hint")
        if hint is not None:
            if not _EMAIL.match(hint.strip()):
                return refuse("invalid_request", "login_hint must be an e-mail address")
            identity = Identity(hint.strip().lower(), name=hint.split("@")[0])
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._grants[code] = _Grant(
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                challenge=challenge,
                nonce=q.get("nonce"),
                scope=q.get("scope", ""),
                identity=identity,
                expires_at=time.monotonic() + CODE_TTL_S,
            )
        return _redirect(redirect_uri, {"code": code, "state": state})

    def _token(self, request: Request) -> Response:
        form = request.body
        if not isinstance(form, dict):
            raise HttpError(self.error(400, "the body must be an HTML form (urlencoded)"))
        self._authenticate_client(request, form)
        if form.get("grant_type") != "authorization_code":
            raise HttpError(
                self._oauth_error(400, "unsupported_grant_type", "only authorization_code")
            )
        grant = self._redeem(str(form.get("code", "")))
        if form.get("redirect_uri") != grant.redirect_uri:
            raise HttpError(self._invalid_grant("redirect_uri does not match the authorization"))
        verifier = str(form.get("code_verifier", ""))
        if not _VERIFIER.match(verifier) or not hmac.compare_digest(
            s256(verifier), grant.challenge
        ):
            raise HttpError(self._invalid_grant("PKCE verification failed"))
        with self._lock:
            tamper, self._tamper = self._tamper, None
        claims = id_token_claims(
            issuer=self.issuer,
            client_id=grant.client_id,
            identity=grant.identity,
            nonce=grant.nonce,
            now=time.time(),
            tamper=tamper,
        )
        id_token = self.signer.sign(claims, tamper)
        with self._lock:
            self._issued.append({**claims, "tamper": tamper})
        return Response(
            200,
            {
                "id_token": id_token,
                "access_token": secrets.token_urlsafe(32),
                "token_type": "Bearer",
                "expires_in": TOKEN_TTL_S,
            },
            {"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def _authenticate_client(self, request: Request, form: dict[str, Any]) -> None:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(basic[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            client_id, _, secret = decoded.partition(":")
        if client_id != self.client_id:
            raise HttpError(self._oauth_error(401, "invalid_client", "unknown client"))
        if self.client_secret is not None and not hmac.compare_digest(
            str(secret or ""), self.client_secret
        ):
            raise HttpError(
                self._oauth_error(401, "invalid_client", "client authentication failed")
            )

    def _redeem(self, code: str) -> _Grant:
        """The code's grant, spent by this call whatever happens next (single use)."""
        with self._lock:
            grant = self._grants.get(code)
            if grant is None:
                raise HttpError(self._invalid_grant("unknown authorization code"))
            if grant.used:
                raise HttpError(self._invalid_grant("authorization code already used"))
            grant.used = True
        if grant.expires_at <= time.monotonic():
            raise HttpError(self._invalid_grant("authorization code expired"))
        if grant.client_id != self.client_id:
            raise HttpError(self._invalid_grant("authorization code issued to another client"))
        return grant

    def _registered(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        parts = urlsplit(uri)
        return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment

    def _invalid_grant(self, description: str) -> Response:
        return self._oauth_error(400, "invalid_grant", description)

    @staticmethod
    def _oauth_error(status: int, error: str, description: str) -> Response:
        headers = {"Cache-Control": "no-store"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="oauth2"'
        return Response(status, {"error": error, "error_description": description}, headers)

    # --- control routes ----------------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/_emulator/next-token":
            if method == "DELETE":
                self.tamper_next(None)
                return Response(200, {"tamper": None})
            if method == "POST":
                body = request.body if isinstance(request.body, dict) else {}
                if body.get("tamper") not in TAMPERS:
                    allowed = ", ".join(TAMPERS)
                    return Response(400, {"detail": f"'tamper' must be one of {allowed}"})
                self.tamper_next(body["tamper"])
                return Response(200, {"tamper": body["tamper"]})
        if path == "/_emulator/identity" and method == "POST":
            body = request.body if isinstance(request.body, dict) else {}
            email, verified = body.get("email"), body.get("email_verified", True)
            if not isinstance(email, str) or not _EMAIL.match(email):
                return Response(400, {"detail": "'email' must be an e-mail address"})
            if not isinstance(verified, bool):
                return Response(400, {"detail": "'email_verified' must be true or false"})
            name = body.get("name")
            self.default_identity = Identity(
                email.lower(), verified, name if isinstance(name, str) else None
            )
            return Response(200, {"email": email.lower(), "email_verified": verified})
        if path == "/_emulator/issued" and method == "GET":
            return Response(200, self.issued())
        return super()._control(request)

    def tamper_next(self, tamper: Tamper | None) -> None:
        with self._lock:
            self._tamper = tamper

    def issued(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._issued)


def _exact(path: str) -> Callable[[str], dict[str, str] | None]:
    return lambda candidate: {} if candidate == path else None


def _redirect(uri: str, params: dict[str, str | None]) -> Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    separator = "&" if urlsplit(uri).query else "?"
    return Response(302, b"", {"Location": f"{uri}{separator}{query}", "Cache-Control": "no-store"})
