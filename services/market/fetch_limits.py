"""Who may make the API fetch prices from the provider, and how often.

Prices in a cache are served to anyone. A cache miss costs a request of the provider's quota
that ingestion needs as well, so only a caller with a session may cause one (an anonymous
session is enough: it costs a request to get, and it is counted), and each session, and each
network address, only so many an hour, counted exactly across instances. Together with the
API's share of the provider's quotas (`PRICES_SHARE`), no caller can spend more than a bounded
part of it: walking every ticker, range and candle size without a session costs the provider
nothing, and with one session at most its hourly allowance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.market.prices import FetchNotPermittedError
from services.resilience.allowance import (
    Allowance,
    AllowanceExceededError,
    Allowances,
    Claim,
    Taken,
)
from services.settings import Settings

PER_SESSION = "price_fetches_per_session"
PER_CLIENT = "price_fetches_per_client"


class SignInToFetchError(FetchNotPermittedError):
    """The prices are not cached and the caller has no session to fetch them with."""


class FetchLimitReachedError(FetchNotPermittedError):
    """The caller's session, or its network address, used up its fetches for the hour."""

    def __init__(self, exceeded: AllowanceExceededError) -> None:
        super().__init__(str(exceeded))
        self.exceeded = exceeded


@dataclass(frozen=True)
class PriceFetchLimits:
    allowances: Allowances
    per_session: Allowance
    per_client: Allowance

    @classmethod
    def of(cls, allowances: Allowances, settings: Settings) -> PriceFetchLimits:
        return cls(
            allowances,
            Allowance(
                PER_SESSION,
                settings.price_fetches_per_session_per_hour,
                "price fetches (prices not cached yet) for this session",
            ),
            Allowance(
                PER_CLIENT,
                settings.price_fetches_per_client_per_hour,
                "price fetches (prices not cached yet) from your network address",
            ),
        )

    def permit(self, session_id: Callable[[], str | None], client_address: str) -> CallerPermit:
        """The permit of one request. `session_id` is asked only when a fetch is needed, so
        an answer from a cache never costs the session's look-up."""
        return CallerPermit(self, session_id, client_address)


@dataclass
class CallerPermit:
    """One request's permit (`services.market.prices.FetchPermit`)."""

    limits: PriceFetchLimits
    session_id: Callable[[], str | None]
    client_address: str
    _taken: Taken | None = field(default=None, init=False)

    def take(self) -> None:
        session = self.session_id()
        if session is None:
            raise SignInToFetchError(
                "these prices are not cached yet, and fetching them needs a session: send "
                "Authorization: Bearer <token>; an anonymous session is enough "
                "(POST /api/v2/auth/anonymous)"
            )
        limits = self.limits
        claims = [Claim(limits.per_session, session), Claim(limits.per_client, self.client_address)]
        try:
            self._taken = limits.allowances.take(claims)
        except AllowanceExceededError as exceeded:
            raise FetchLimitReachedError(exceeded) from None

    def give_back(self) -> None:
        if self._taken is not None:
            self.limits.allowances.give_back(self._taken)
            self._taken = None
