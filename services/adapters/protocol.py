"""The small protocols the ingestion and API code depend on (adapters implement them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from services.adapters.models import Candle, NewsArticle, ProviderSentiment, Resolution


class NewsSource(Protocol):
    @property
    def name(self) -> str: ...

    def fetch_news(
        self, tickers: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[NewsArticle]: ...


class SentimentSource(Protocol):
    def fetch_sentiment(self, ticker: str) -> ProviderSentiment: ...


class CandleSource(Protocol):
    def fetch_candles(
        self, ticker: str, start: datetime, end: datetime, resolution: Resolution
    ) -> list[Candle]: ...
