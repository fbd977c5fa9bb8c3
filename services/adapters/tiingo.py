"""Tiingo: news (several tickers per call, paginated) and daily / intraday prices.

Tiingo tells of a spent allowance in the body, often with a 200: plain text ("You have run
over your 500 symbol look up for this month. Please upgrade at ...") or `{"detail": "Error:
You have run over your hourly request allocation. ..."}`, and sometimes with a 429. Such an
answer is a `ProviderQuotaExceededError` with the period it names (hourly and daily requests,
the month's unique symbols, the month's bandwidth) and the seconds to that period's next UTC
boundary (Tiingo does not document when its periods turn over); a 2xx that is neither data
nor such a message stays a `ProviderResponseError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Unpack

import httpx
from pydantic import BaseModel, ValidationError

from services.adapters.errors import (
    ProviderError,
    ProviderQuotaExceededError,
    ProviderResponseError,
    QuotaScope,
)
from services.adapters.http import (
    ClientOptions,
    HttpAdapter,
    get_json,
    response_detail,
    retry_after_header,
)
from services.adapters.models import Candle, NewsArticle, Provider, Resolution
from services.adapters.plans import Endpoint
from services.clock import Clock, utc_now

PROVIDER: Provider = "tiingo"
PAGE_SIZE = 1000  # Tiingo's largest `limit`
MAX_PAGES = 20
_INTRADAY = {"60": "1hour", "30": "30min", "15": "15min", "5": "5min", "1": "1min"}
# Tiingo's words for a spent allowance ("You have run over your ... allocation", "... symbol
# look up for this month", ...).
_LIMIT = re.compile(
    r"run over your|request allocation|bandwidth allocation|symbol look ?up|"
    r"api limit reached|rate limit|limits increased",
    re.IGNORECASE,
)


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
    news_endpoint: Endpoint = "news"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        clock: Clock = utc_now,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(base_url, api_key, **options)
        # When an allowance named in an answer turns over is reckoned from this clock.
        self._clock = clock

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"Authorization": f"Token {api_key}"}

    def news_requests(self, tickers: Sequence[str]) -> int:
        """One request for every ticker (more pages only for a very busy window)."""
        return 1

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
            self.last_requests = page + 1
            body = get_json(
                self._client,
                PROVIDER,
                "/tiingo/news",
                {**params, "offset": page * PAGE_SIZE},
                endpoint="news",
                check=self._limit_answer,
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
        item = self._documented(_News, raw, "Tiingo news item")
        if item is None:
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
            endpoint = "daily_prices"
            params["resampleFreq"] = "daily"
        else:
            path = f"/iex/{ticker.lower()}/prices"
            endpoint = "intraday_prices"
            params["resampleFreq"] = _INTRADAY[resolution]
            params["columns"] = "open,high,low,close,volume"
        body = get_json(
            self._client, PROVIDER, path, params, endpoint=endpoint, check=self._limit_answer
        )
        candles = []
        for raw in _expect_list(body, path):
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

    def _limit_answer(self, path: str, response: httpx.Response) -> ProviderError | None:
        """A spent allowance told in a 2xx's body (plain text or `{"detail": ...}`), or in a
        429 that names its period; None for anything else (data, or other errors)."""
        status = response.status_code
        if 200 <= status < 300:
            reason = _message_of_2xx(response)
        elif status == 429:
            reason = response_detail(response)
        else:
            return None
        if reason is None or not _LIMIT.search(reason):
            return None
        scope = quota_scope(reason)
        if status == 429 and scope is None:
            return None  # the shared mapping: a plain rate limit with its Retry-After
        retry_after = retry_after_header(response)
        if retry_after is None and scope is not None:
            retry_after = seconds_to_period_end(scope, self._clock())
        return ProviderQuotaExceededError(
            PROVIDER,
            f"GET {path} -> {status}: {reason}",
            status,
            retry_after,
            scope=scope,
            reason=reason,
        )


def _message_of_2xx(response: httpx.Response) -> str | None:
    """What a 2xx says instead of data: its plain text, or the `detail` of a JSON object;
    None for a list (data) or any other JSON. Cheap for data: a list is never parsed here."""
    if response.content.lstrip()[:1] in (b"", b"["):
        return None
    text = response.text.strip()
    if text.startswith("{"):
        try:
            body = json.loads(text)
        except ValueError:
            return None
        detail = body.get("detail") if isinstance(body, dict) else None
        return detail[:300] if isinstance(detail, str) else None
    try:
        json.loads(text)
    except ValueError:
        return text[:300]
    return None  # a JSON scalar: not a message


def quota_scope(message: str) -> QuotaScope | None:
    """The allowance Tiingo's message says is spent, when it names one."""
    lowered = message.lower()
    if "bandwidth" in lowered:
        return "month_bandwidth"
    if "symbol" in lowered and "month" in lowered:
        return "month_symbols"
    if "hourly" in lowered or "per hour" in lowered:
        return "hour"
    if "daily" in lowered or "per day" in lowered:
        return "day"
    return None


def seconds_to_period_end(scope: QuotaScope, now: datetime) -> float:
    """Seconds from `now` to the next UTC start of the hour, day or month `scope` names."""
    now = now.astimezone(UTC)
    if scope == "hour":
        end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    elif scope == "day":
        end = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    else:
        first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (first + timedelta(days=32)).replace(day=1)
    return max(1.0, (end - now).total_seconds())


def _expect_list(body: Any, path: str) -> list[Any]:
    if not isinstance(body, list):
        raise ProviderResponseError(PROVIDER, f"GET {path} did not return a list")
    return body


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
