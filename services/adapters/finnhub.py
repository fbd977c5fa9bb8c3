"""Finnhub: company news (one call per ticker), news sentiment and candles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from services.adapters.errors import ProviderResponseError
from services.adapters.http import HttpAdapter, get_json
from services.adapters.models import Candle, NewsArticle, Provider, ProviderSentiment, Resolution
from services.adapters.plans import Endpoint

PROVIDER: Provider = "finnhub"


class _News(BaseModel):
    id: int
    datetime: int
    headline: str
    summary: str = ""
    url: str = ""
    source: str = ""
    related: str = ""
    category: str = ""


class _Buzz(BaseModel):
    # Finnhub sends null for a figure it has no data for (a thin week, a small company).
    articlesInLastWeek: int | None = None  # noqa: N815 - Finnhub's field names
    buzz: float | None = None
    weeklyAverage: float | None = None  # noqa: N815


class _Split(BaseModel):
    bearishPercent: float | None = None  # noqa: N815
    bullishPercent: float | None = None  # noqa: N815


class _Sentiment(BaseModel):
    # `buzz`, `sentiment` and `companyNewsScore` may each be null, or missing, as a whole.
    buzz: _Buzz | None = None
    companyNewsScore: float | None = None  # noqa: N815
    sentiment: _Split | None = None
    symbol: str | None = ""


class _Candles(BaseModel):
    s: str
    t: list[int] = []
    o: list[float] = []
    h: list[float] = []
    l: list[float] = []  # noqa: E741 - Finnhub's field name
    c: list[float] = []
    v: list[float] = []


class FinnhubAdapter(HttpAdapter):
    name = PROVIDER
    news_endpoint: Endpoint = "company_news"

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"X-Finnhub-Token": api_key}

    def news_requests(self, tickers: Sequence[str]) -> int:
        return len(tickers)

    def fetch_news(
        self, tickers: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[NewsArticle]:
        """One call per ticker for the days from `since` to `until` (the API takes dates)."""
        end = until or datetime.now(UTC)
        self.last_skipped = 0
        self.last_requests = 0
        articles: list[NewsArticle] = []
        for ticker in tickers:
            self.last_requests += 1
            params = {
                "symbol": ticker.upper(),
                "from": since.astimezone(UTC).date().isoformat(),
                "to": end.astimezone(UTC).date().isoformat(),
            }
            body = get_json(
                self._client, PROVIDER, "/company-news", params, endpoint="company_news"
            )
            if not isinstance(body, list):
                raise ProviderResponseError(PROVIDER, "GET /company-news did not return a list")
            for raw in body:
                article = self._parse_news(raw, ticker.upper())
                if article is not None:
                    articles.append(article)
        return articles

    def _parse_news(self, raw: Any, ticker: str) -> NewsArticle | None:
        item = self._documented(_News, raw, "Finnhub news item")
        if item is None:
            return None
        related = {s.strip().upper() for s in item.related.split(",") if s.strip()} | {ticker}
        return NewsArticle(
            provider=PROVIDER,
            provider_id=str(item.id),
            title=item.headline,
            description=item.summary,
            url=item.url,
            source_name=item.source,
            published_at=datetime.fromtimestamp(item.datetime, UTC),
            tickers=tuple(sorted(related)),
        )

    def fetch_sentiment(self, ticker: str) -> ProviderSentiment:
        """Finnhub's weekly figures; a figure it sends as null (or leaves out) is None, never
        a made-up zero, so a symbol without data reads as "no signal"."""
        body = get_json(
            self._client,
            PROVIDER,
            "/news-sentiment",
            {"symbol": ticker.upper()},
            endpoint="news_sentiment",
        )
        try:
            parsed = _Sentiment.model_validate(body)
        except ValidationError as error:
            raise ProviderResponseError(
                PROVIDER, "GET /news-sentiment: unexpected shape"
            ) from error
        split = parsed.sentiment or _Split()
        buzz = parsed.buzz or _Buzz()
        return ProviderSentiment(
            ticker=ticker.upper(),
            bullish_percent=split.bullishPercent,
            bearish_percent=split.bearishPercent,
            articles_in_last_week=buzz.articlesInLastWeek,
            buzz=buzz.buzz,
            weekly_average=buzz.weeklyAverage,
            company_news_score=parsed.companyNewsScore,
        )

    def fetch_candles(
        self, ticker: str, start: datetime, end: datetime, resolution: Resolution
    ) -> list[Candle]:
        params = {
            "symbol": ticker.upper(),
            "resolution": resolution,
            "from": int(start.timestamp()),
            "to": int(end.timestamp()),
        }
        body = get_json(self._client, PROVIDER, "/stock/candle", params, endpoint="candles")
        try:
            parsed = _Candles.model_validate(body)
        except ValidationError as error:
            raise ProviderResponseError(PROVIDER, "GET /stock/candle: unexpected shape") from error
        if parsed.s != "ok":
            return []
        return [
            Candle(datetime.fromtimestamp(t, UTC), o, h, low, c, int(v))
            for t, o, h, low, c, v in zip(
                parsed.t, parsed.o, parsed.h, parsed.l, parsed.c, parsed.v, strict=False
            )
        ]
