"""The API's dependencies over the in-memory store: every route runs its real code, the
repositories are `services.store.memory`'s, and the providers are whatever a test hands in
(by default none: a price fetch or an e-mail fails as an unreachable provider would)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.adapters.email import EmailMessage, SentEmail
from services.adapters.errors import ProviderUnavailableError
from services.adapters.models import Candle, Resolution
from services.adapters.protocol import CandleSource
from services.api.dependencies import ApiDependencies, ApiStore
from services.clock import Clock, utc_now
from services.composition.api import api_dependencies
from services.resilience.chaos import ChaosSwitches
from services.settings import Settings
from services.store.memory import MemoryStore


def memory_api_store(memory: MemoryStore | None = None, *, clock: Clock = utc_now) -> ApiStore:
    """The API's repositories, all from one `MemoryStore` (a new one unless given)."""
    memory = memory if memory is not None else MemoryStore.empty(clock)
    return ApiStore(
        users=memory.users,
        sessions=memory.sessions,
        tokens=memory.tokens,
        configurations=memory.configurations,
        alerts=memory.alerts,
        preferences=memory.preferences,
        outbox=memory.outbox,
        articles=memory.articles,
        sentiment=memory.sentiment,
        ohlc_cache=memory.ohlc_cache,
        metrics=memory.metrics,
        cache_counts=memory.cache_counts,
        rate_windows=memory.rate_windows,
        allowances=memory.allowances,
        circuits=memory.circuits,
        quotas=memory.quotas,
        entitlements=memory.entitlements,
        ingestion_runs=memory.ingestion_runs,
        backfill=memory.backfill,
        census=memory.census,
    )


class NoPrices:
    """A prices source that is never reachable."""

    def fetch_candles(
        self, ticker: str, start: datetime, end: datetime, resolution: Resolution
    ) -> list[Candle]:
        raise ProviderUnavailableError("tiingo", "no prices source in this test")


class NoEmail:
    """An e-mail provider that is never reachable."""

    def send(self, message: EmailMessage) -> SentEmail:
        raise ProviderUnavailableError("sendgrid", "no e-mail provider in this test")


def memory_api_dependencies(
    settings: Settings,
    memory: MemoryStore | None = None,
    *,
    clock: Clock = utc_now,
    prices_source: CandleSource | None = None,
    email_sender: Any = None,
    chaos: ChaosSwitches | None = None,
    **hooks: Any,
) -> ApiDependencies:
    """`ApiDependencies` over `memory` (a new store unless given), with the guard and the
    entitlements built as the deployed API builds them, over the same store. `hooks` are the
    runtime's (`ingestion_runner`, `metrics_runner`, `live_accuracy`, ...)."""
    return api_dependencies(
        settings,
        memory_api_store(memory, clock=clock),
        clock=clock,
        prices_source=prices_source or NoPrices(),
        sender=email_sender or NoEmail(),
        chaos=chaos,
        **hooks,
    )
