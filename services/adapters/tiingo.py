"""Tiingo: news (several tickers per call, paginated) and daily / intraday prices."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from services.adapters.errors import ProviderResponseError
from services.adapters.http import HttpAdapter, get_json
from services.adapters.models import Candle, NewsArticle, Provider, Resolution

LOG = logging.getLogger(__name__)
PROVIDER: Provider = "tiingo"
PAGE_SIZE = 1000  # Tiingo's largest `limit`
MAX_PAGES = 20
_INTRADAY = {"60": "1hour", "30": "30min", "15": "15min", "5": "5min", "1": "1min"}


class _News(BaseModel):
    id: int
    title: str
    description: str = ""
    url: str = ""
    publishedDate: datetime  # noqa: N815 - Tiingo's field name
    source: str = ""
    tickers: list[str] = []
    tags: list[str] = []


class _Price(BaseModel):
    date: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0


class TiingoAdapter(HttpAdapter):
    name = PROVIDER

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_s: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            base_url, {"Authorization": f"Token {api_key}"}, timeout_s=timeout_s, client=client
        )

    def fetch_news(
        self, tickers: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[NewsArticle]:
        """Everything Tiingo returns for the days from `since` to `until` (whole days: the API
        takes dates). Nothing it returns is dropped, so what was fetched is what was stored."""
        params: dict[str, Any] = {
            "tickers": ",".join(t.lower() for t in tickers),
            "startDate": since.astimezone(UTC).date().isoformat(),
            "limit": PAGE_SIZE,
            "sortBy": "publishedDate",
        }
        if until is not None:
            params["endDate"] = until.astimezone(UTC).date().isoformat()
        articles: list[NewsArticle] = []
        self.last_skipped = 0
        for page in range(MAX_PAGES):
            body = get_json(
                self._client, PROVIDER, "/tiingo/news", {**params, "offset": page * PAGE_SIZE}
            )
            items = _expect_list(body, "/tiingo/news")
            for raw in items:
                parsed = self._parse_news(raw)
                if parsed is not None:
                    articles.append(parsed)
            if len(items) < PAGE_SIZE:
                break
        return articles

    def _parse_news(self, raw: Any) -> NewsArticle | None:
        try:
            item = _News.model_validate(raw)
        except ValidationError:
            self.last_skipped += 1
            LOG.warning("skipped a Tiingo news item that does not match the documented shape")
            return None
        return NewsArticle(
            provider=PROVIDER,
            provider_id=str(item.id),
            title=item.title,
            description=item.description,
            url=item.url,
            source_name=item.source,
            published_at=_utc(item.publishedDate),
            tickers=tuple(sorted({t.upper() for t in item.tickers})),
            tags=tuple(item.tags),
        )

    def fetch_candles(
        self, ticker: str, start: datetime, end: datetime, resolution: Resolution
    ) -> list[Candle]:
        params: dict[str, Any] = {
            "startDate": start.astimezone(UTC).date().isoformat(),
            "endDate": end.astimezone(UTC).date().isoformat(),
        }
        if resolution == "D":
            path = f"/tiingo/daily/{ticker.lower()}/prices"
            params["resampleFreq"] = "daily"
        else:
            path = f"/iex/{ticker.lower()}/prices"
            params["resampleFreq"] = _INTRADAY[resolution]
            params["columns"] = "open,high,low,close,volume"
        candles = []
        for raw in _expect_list(get_json(self._client, PROVIDER, path, params), path):
            try:
                price = _Price.model_validate(raw)
            except ValidationError:
                self.last_skipped += 1
                continue
            candles.append(
                Candle(
                    _utc(price.date),
                    price.open,
                    price.high,
                    price.low,
                    price.close,
                    int(price.volume),
                )
            )
        return candles


def _expect_list(body: Any, path: str) -> list[Any]:
    if not isinstance(body, list):
        raise ProviderResponseError(PROVIDER, f"GET {path} did not return a list")
    return body


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
