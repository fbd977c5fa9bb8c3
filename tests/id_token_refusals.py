"""The reason an ID token is refused for, per way the OIDC emulator can tamper with one: the
OAuth journey's unit tests read it from the error, the end-to-end ones from the answer."""

from __future__ import annotations

from services.local.emulators.oidc import Tamper

REFUSAL_REASON: dict[Tamper, str] = {
    "audience": "audience",
    "issuer": "issuer",
    "expired": "expired",
    "nonce": "nonce",
    "signature": "signature",
    "alg_none": "algorithm",
    "unverified_email": "email_unverified",
    "malformed": "malformed",
}
