"""A single-use token a person brings back (a sign-in link's, an OAuth sign-in's state): its
shape checked before the store is asked, and the store's refusals told in the flow's words."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from services.clock import Clock
from services.store.errors import NotFoundError, StoreError, TokenExpiredError, TokenUsedError
from services.store.models import SingleUseToken
from services.store.sessions import token_hash

# The store's read of a token by its hash and kind: `consume`, or `peek` to leave it usable.
TokenRead = Callable[[str, str, datetime], SingleUseToken]
# Each refusal of the store (`NotFoundError`, `TokenUsedError`, `TokenExpiredError`) as a flow
# tells it to a person: its own error, and the message.
Refusals = Mapping[type[StoreError], tuple[type[Exception], str]]


@dataclass(frozen=True)
class SingleUseTokens:
    """One flow's tokens: their kind, the shape every token of ours has, and how a refusal is
    told. A malformed token is told as an unknown one: neither was ever issued."""

    kind: str
    shape: re.Pattern[str]
    refusals: Refusals

    def read(self, token: str, read: TokenRead, clock: Clock) -> SingleUseToken:
        """The stored token that `token` names, or the flow's error for it."""
        if not self.shape.match(token):
            raise self._refused(NotFoundError)
        try:
            return read(token_hash(token), self.kind, clock())
        except NotFoundError:
            raise self._refused(NotFoundError) from None
        except TokenUsedError:
            raise self._refused(TokenUsedError) from None
        except TokenExpiredError:
            raise self._refused(TokenExpiredError) from None

    def _refused(self, refusal: type[StoreError]) -> Exception:
        error, message = self.refusals[refusal]
        return error(message)
