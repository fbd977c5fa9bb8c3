"""Price candles through two cache layers: in-process (L1) and the table (L2), then Tiingo.

Freshness depends on the candle size: an hourly or minute bar moves within minutes, a daily
series changes once a day (and only in its last bar), so daily copies are kept longer.
When the provider fails, a stored copy, even an old one, is better than nothing: it is
served marked stale. Without one the caller learns that prices are unavailable for now.

Who may cause a fetch. Cached prices are served to anyone; a fetch from the provider spends a
quota that ingestion needs too, so a caller can pass a `FetchPermit`, asked right before a
fetch (never for an answer from a cache): it refuses with a `FetchNotPermittedError` (no
session, or the caller's allowance used up), and then a stored copy, even a stale one, is
still served. A fetch the guard refused (circuit open, quota share used up) was never made:
its permit is given back. The fetches are counted in `share` of the provider's quotas when
one is given (the API's: `PRICES_SHARE`), so they never spend more than that share.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Literal, Protocol

from services.adapters.errors import (
    ProviderError,
    ProviderNotFoundError,
    ProviderRateLimitedError,
)
from services.adapters.protocol import CandleSource
from services.caching.ttl import TtlCache
from services.clock import Clock
from services.market.ranges import (
    PriceResolution,
    RangeName,
    is_intraday,
    range_window,
    served_range,
)
from services.resilience.guard import AllowAll, CallGuard, CallRefusedError
from services.resilience.quota import QuotaExhaustedError
from services.store.ohlc_cache import CachedCandles, OhlcCacheStore

LOG = logging.getLogger(__name__)

Layer = Literal["l1", "l2", "provider"]
PROVIDER = "tiingo"
DEFAULT_RETRY_AFTER_S = 30
# The share of the provider's quotas the API's fetches are kept within.
PRICES_SHARE = "prices"


@dataclass(frozen=True, slots=True)
class CachePolicy:
    memory_ttl_s: float  # L1
    fresh_for: timedelta  # L2: fetch again after this
    keep_for: timedelta  # L2: the item's TTL, so a stale copy outlives a provider outage


POLICIES: Mapping[str, CachePolicy] = {
    "daily": CachePolicy(300.0, timedelta(hours=1), timedelta(days=7)),
    "intraday": CachePolicy(60.0, timedelta(minutes=5), timedelta(days=1)),
}


@dataclass(frozen=True, slots=True)
class PriceAnswer:
    prices: CachedCandles
    layer: Layer
    stale: bool = False

    @property
    def from_cache(self) -> bool:
        return self.layer != "provider"


class PricesUnavailableError(Exception):
    """The provider failed (or its circuit is open, or its quota used up) and no copy of
    these prices is stored."""

    def __init__(self, message: str, retry_after_s: int, *, quota_exhausted: bool = False):
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.quota_exhausted = quota_exhausted


class NoPricesError(Exception):
    """The provider does not know the ticker (a fact, not an outage)."""

    def __init__(self, message: str, ticker: str) -> None:
        super().__init__(message)
        self.ticker = ticker


class FetchNotPermittedError(Exception):
    """The caller may not cause a fetch now, and no copy of the prices is stored."""


class FetchPermit(Protocol):
    def take(self) -> None:
        """Allow one fetch from the provider, or raise a `FetchNotPermittedError`."""
        ...

    def give_back(self) -> None:
        """The fetch allowed last was not made after all."""
        ...


def policy_for(resolution: PriceResolution) -> CachePolicy:
    return POLICIES["intraday" if is_intraday(resolution) else "daily"]


def fresh_until(resolution: PriceResolution, now: datetime) -> datetime:
    """Fresh for the policy's time, but never past midnight UTC: the range's end date moves
    then, so yesterday's copy lacks today's bar."""
    midnight = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time.min, UTC)
    return min(now + policy_for(resolution).fresh_for, midnight)


class PriceService:
    def __init__(
        self,
        source: CandleSource,
        store: OhlcCacheStore,
        clock: Clock,
        guard: CallGuard | None = None,
        memory_ttl_s: Mapping[str, float] | None = None,
        *,
        priority: bool = False,
        share: str | None = None,
    ) -> None:
        self._source = source
        self._store = store
        self._clock = clock
        self._guard = guard or AllowAll()
        # Whether the guard may spend the quota's reserve on these fetches.
        self._priority = priority
        # The share of the provider's quotas these fetches are kept within (None: the rest).
        self._share = share
        # The L1 lifetimes come from settings when given (0 switches L1 off).
        ttls = {kind: policy.memory_ttl_s for kind, policy in POLICIES.items()}
        ttls.update(memory_ttl_s or {})
        self.memory: dict[str, TtlCache[PriceAnswer]] = {
            kind: TtlCache(f"ohlc_{kind}", ttls[kind]) for kind in POLICIES
        }

    def candles(
        self,
        ticker: str,
        range_name: RangeName,
        resolution: PriceResolution,
        *,
        permit: FetchPermit | None = None,
    ) -> PriceAnswer:
        """The candles of `range_name` (or of the longest range `resolution` serves, which
        the answer's range then says). `permit`: asked before a fetch from the provider
        (None: any caller may cause one)."""
        range_name = served_range(range_name, resolution)
        memory = self.memory["intraday" if is_intraday(resolution) else "daily"]
        key = (ticker, resolution, range_name)
        load = partial(self._load, ticker, range_name, resolution, permit)
        answer, hit = memory.get_or_load(key, load)
        if hit:
            return replace(answer, layer="l1")
        if answer.stale:
            # Not kept in L1: the next request should try the provider again.
            memory.invalidate(key)
        return answer

    def _load(
        self,
        ticker: str,
        range_name: RangeName,
        resolution: PriceResolution,
        permit: FetchPermit | None,
    ) -> PriceAnswer:
        now = self._clock()
        stored = self._store.get(ticker, resolution, range_name, now)
        if stored is not None and stored.is_fresh(now):
            return PriceAnswer(stored, "l2")
        if permit is not None:
            try:
                permit.take()
            except FetchNotPermittedError:
                if stored is not None:
                    return PriceAnswer(stored, "l2", stale=True)
                raise
        window = range_window(range_name, now)
        try:
            candles = self._guard.call(
                PROVIDER,
                partial(self._source.fetch_candles, ticker, window.start, window.end, resolution),
                priority=self._priority,
                # One request, for one symbol: Tiingo caps distinct symbols a month.
                symbols=(ticker,),
                share=self._share,
            )
        except ProviderNotFoundError as error:
            raise NoPricesError(f"{PROVIDER} has no prices for {ticker}", ticker) from error
        except ProviderError as error:
            if permit is not None and isinstance(error, CallRefusedError):
                permit.give_back()
            if stored is not None:
                LOG.warning("serving stale %s prices of %s: %s", PROVIDER, ticker, error)
                return PriceAnswer(stored, "l2", stale=True)
            raise prices_unavailable(error, ticker, range_name, resolution) from error
        fetched = CachedCandles(
            ticker=ticker,
            resolution=resolution,
            range_name=range_name,
            candles=tuple(sorted(candles, key=lambda c: c.timestamp)),
            start_date=window.start_date,
            end_date=window.end_date,
            source=PROVIDER,
            fetched_at=now,
            fresh_until=fresh_until(resolution, now),
        )
        self._keep(fetched, until=now + policy_for(resolution).keep_for)
        return PriceAnswer(fetched, "provider")

    def _keep(self, fetched: CachedCandles, until: datetime) -> None:
        """Store a fetch in the table cache, its item kept until `until`."""
        try:
            self._store.put(fetched, until)
        except Exception:
            # The answer matters more than caching it; the next request fetches again.
            LOG.warning(
                "could not store %s prices of %s in the table cache", PROVIDER, fetched.ticker
            )


def prices_unavailable(
    error: ProviderError, ticker: str, range_name: RangeName, resolution: PriceResolution
) -> PricesUnavailableError:
    """The failure to tell a caller who has no stored copy to fall back on: why (a spent
    quota or an unavailable provider) and when asking again makes sense."""
    retry_after = DEFAULT_RETRY_AFTER_S
    if isinstance(error, ProviderRateLimitedError) and error.retry_after:
        retry_after = max(1, round(error.retry_after))
    if isinstance(error, CallRefusedError):
        # An open circuit or a spent quota knows when asking again makes sense.
        retry_after = int(error.retry_after_header)
    exhausted = isinstance(error, QuotaExhaustedError)
    what = (
        f"{PROVIDER}'s quota for price data is used up"
        if exhausted
        else f"price data from {PROVIDER} is unavailable right now"
    )
    return PricesUnavailableError(
        f"{what} and no copy of "
        f"{ticker} {range_name} ({resolution}) is cached; retry in {retry_after} s",
        retry_after,
        quota_exhausted=exhausted,
    )
