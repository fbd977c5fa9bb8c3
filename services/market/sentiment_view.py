"""A configuration's current sentiment: per ticker, each source's recent true average and
the ensemble of them, plus whether each provider is delivering."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from services.analysis.buckets import Bucket, Resolution
from services.market.signals import (
    PROVIDERS,
    SOURCES,
    Status,
    WindowAverage,
    choose,
    fallback_window,
    overall_status,
    recent_window,
    source_status,
    window_average,
)
from services.scoring.ensemble import EnsembleResult, combine


class BucketReader(Protocol):
    def history(
        self, ticker: str, source: str, resolution: Resolution, since: datetime, until: datetime
    ) -> list[Bucket]: ...


@dataclass(frozen=True, slots=True)
class SourceView:
    window: WindowAverage
    status: Status


@dataclass(frozen=True, slots=True)
class TickerSentiment:
    symbol: str
    sources: Mapping[str, SourceView]
    aggregated: EnsembleResult

    @property
    def aggregated_count(self) -> int:
        """Observations behind the ensemble: the counts of the sources it used."""
        return sum(self.sources[name].window.count for name in self.aggregated.used)


@dataclass(frozen=True, slots=True)
class ConfigurationSentiment:
    config_id: str
    version: int
    tickers: tuple[TickerSentiment, ...]
    source_status: Mapping[str, Status]
    computed_at: datetime
    # Why a provider is `not_entitled`: its own words, or the plan's.
    source_notes: Mapping[str, str] = field(default_factory=dict)


def source_view(reader: BucketReader, ticker: str, source: str, now: datetime) -> SourceView:
    start, end = recent_window(now)
    recent = window_average(
        reader.history(ticker, source, "H", start, end), source, "H", start, end
    )
    fallback: WindowAverage | None = None
    if recent.count == 0:
        # Only read the daily buckets when the hourly ones are empty: one query, not two.
        low, high = fallback_window(now)
        daily = reader.history(ticker, source, "D", low, high)
        fallback = window_average(daily, source, "D", low, high)
    status = source_status(recent.count, fallback.count if fallback else 0)
    return SourceView(choose(recent, fallback), status)


def ticker_sentiment(reader: BucketReader, ticker: str, now: datetime) -> TickerSentiment:
    views: dict[str, SourceView] = {
        source: source_view(reader, ticker, source, now) for source in SOURCES
    }
    aggregated = combine({name: view.window.signal() for name, view in views.items()})
    return TickerSentiment(ticker, views, aggregated)


def configuration_sentiment(
    reader: BucketReader,
    config_id: str,
    version: int,
    tickers: Sequence[str],
    now: datetime,
    failing: frozenset[str] = frozenset(),
    not_entitled: Mapping[str, str] | None = None,
) -> ConfigurationSentiment:
    """`failing`: providers whose circuit is not closed. Their figures are what was stored
    before the outage, so such a provider is at best `degraded`, however recent its data.
    `not_entitled`: provider -> reason, for providers whose endpoint the key's plan lacks:
    they are `not_entitled`, whatever older figures the table still holds."""
    per_ticker = tuple(ticker_sentiment(reader, ticker, now) for ticker in tickers)
    status: dict[str, Status] = {
        provider: overall_status(t.sources[provider].status for t in per_ticker)
        for provider in PROVIDERS
    }
    for provider in failing & set(status):
        if status[provider] == "ok":
            status[provider] = "degraded"
    notes = {p: reason for p, reason in (not_entitled or {}).items() if p in status}
    for provider in notes:
        status[provider] = "not_entitled"
    return ConfigurationSentiment(config_id, version, per_ticker, status, now, notes)
