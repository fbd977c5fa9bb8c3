"""What the rest of the system consumes from the providers, whatever their wire format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Provider = Literal["tiingo", "finnhub"]
Resolution = Literal["D", "60", "30", "15", "5", "1"]


@dataclass(frozen=True, slots=True)
class NewsArticle:
    provider: Provider
    provider_id: str
    title: str
    description: str
    url: str
    source_name: str
    published_at: datetime
    tickers: tuple[str, ...]
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProviderSentiment:
    """A provider's own weekly figures for a ticker. None: the provider sent no figure (Finnhub
    answers null for a symbol it has too little news about); a consumer reads that as "no
    signal", never as zero."""

    ticker: str
    bullish_percent: float | None
    bearish_percent: float | None
    articles_in_last_week: int | None
    buzz: float | None
    weekly_average: float | None
    company_news_score: float | None


@dataclass(frozen=True, slots=True)
class Candle:
    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: int
