"""The small protocols the ingestion and API code depend on (adapters implement them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from services.adapters.models import Candle, NewsArticle, ProviderSentiment, Resolution
from services.adapters.plans import Endpoint


class NewsSource(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def news_endpoint(self) -> Endpoint:
        """The plan endpoint `fetch_news` calls (what a plan may not include)."""
        ...

    @property
    def last_requests(self) -> int:
        """The HTTP requests the last `fetch_news` made: each is a unit of the quota."""
        ...

    def news_requests(self, tickers: Sequence[str]) -> int:
        """The requests one `fetch_news` of `tickers` makes at least (declared up front)."""
        ...

    def fetch_news(
        self, tickers: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[NewsArticle]: ...


class SentimentSource(Protocol):
    def fetch_sentiment(self, ticker: str) -> ProviderSentiment: ...


class CandleSource(Protocol):
    def fetch_candles(
        self, ticker: str, start: datetime, end: datetime, resolution: Resolution
    ) -> list[Candle]: ...
