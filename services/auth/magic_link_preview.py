"""Who a magic link would sign in as, without using it.

A link is not bound to the browser that asked for it: anyone can send someone else a link to
their own account (login CSRF), and a page that verifies `?magic_token=` on load would sign
the victim in as the sender, pulling their anonymous data into the sender's account. So a
page opened with a link first shows the address it is for, masked, and verifies only when the
person confirms it is theirs. The preview leaves the link usable; it reveals nothing the link's
holder could not learn by using it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.auth.magic_link import read_link
from services.clock import Clock
from services.store.models import SingleUseToken

# Characters of the local part shown at each end; the rest are masked one for one.
_SHOWN_AT_START, _SHOWN_AT_END = 2, 1


class LinkReader(Protocol):
    def peek(self, token_hash: str, kind: str, now: datetime) -> SingleUseToken: ...


@dataclass(frozen=True, slots=True)
class LinkPreview:
    email_hint: str
    expires_at: datetime


def mask_address(address: str) -> str:
    """`reader@example.com` -> `re***r@example.com`: enough for a person to tell their own
    address from another, not enough to read it off a screen. The domain is kept whole."""
    local, _, domain = address.rpartition("@")
    if len(local) <= _SHOWN_AT_START + _SHOWN_AT_END:
        return f"{local[:1]}{'*' * (len(local) - 1)}@{domain}"
    hidden = len(local) - _SHOWN_AT_START - _SHOWN_AT_END
    return f"{local[:_SHOWN_AT_START]}{'*' * hidden}{local[-_SHOWN_AT_END:]}@{domain}"


def preview_link(token: str, links: LinkReader, clock: Clock) -> LinkPreview:
    link = read_link(token, links.peek, clock)
    return LinkPreview(email_hint=mask_address(link.subject), expires_at=link.expires_at)
