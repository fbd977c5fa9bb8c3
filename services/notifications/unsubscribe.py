"""Signed unsubscribe links: the token names the user and the kind of e-mail, and only the
holder of the signing key can make one, so a link cannot be forged for another user."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import urlencode

from services.settings import Settings

EmailList = Literal["alerts", "digest"]
EMAIL_LISTS: tuple[EmailList, ...] = get_args(EmailList)
UNSUBSCRIBE_PATH = "/api/v2/notifications/unsubscribe"


class InvalidUnsubscribeTokenError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    user_id: str
    email_list: EmailList


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def sign(key: bytes, user_id: str, email_list: EmailList) -> str:
    payload = _b64(f"{user_id}\n{email_list}".encode())
    return f"{payload}.{_signature(key, payload)}"


def verify(key: bytes, token: str) -> Unsubscribe:
    payload, dot, signature = token.partition(".")
    # Bytes, not str: compare_digest refuses non-ASCII text, and a link can carry anything.
    expected = _signature(key, payload).encode()
    if not dot or not hmac.compare_digest(signature.encode(), expected):
        raise InvalidUnsubscribeTokenError("the unsubscribe link is not valid")
    try:
        user_id, email_list = _unb64(payload).decode().split("\n")
    except (ValueError, UnicodeDecodeError):
        raise InvalidUnsubscribeTokenError("the unsubscribe link is not valid") from None
    if email_list not in EMAIL_LISTS or not user_id:
        raise InvalidUnsubscribeTokenError("the unsubscribe link is not valid")
    return Unsubscribe(user_id, email_list)


def unsubscribe_url(api_url: str, key: bytes, user_id: str, email_list: EmailList) -> str:
    query = urlencode({"token": sign(key, user_id, email_list)})
    return f"{api_url.rstrip('/')}{UNSUBSCRIBE_PATH}?{query}"


def link_for(settings: Settings, user_id: str, email_list: EmailList) -> str | None:
    """The user's unsubscribe link, or None when no signing key is configured."""
    key = signing_key(settings)
    return unsubscribe_url(settings.public_api_url, key, user_id, email_list) if key else None


def signing_key(settings: Settings) -> bytes | None:
    key = settings.unsubscribe_signing_key
    return key.get_secret_value().encode() if key is not None and key.get_secret_value() else None
