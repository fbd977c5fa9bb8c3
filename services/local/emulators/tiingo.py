"""Tiingo's wire format: `/tiingo/news`, `/tiingo/daily/<ticker>/prices`, `/iex/<ticker>/prices`.

Auth is `Authorization: Token <key>` or `?token=<key>`; errors are `{"detail": "..."}`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from services.local.emulators.base import EmulatorServer, HttpError, Request, Response
from services.local.emulators.world import NewsWorld, ProviderName

MAX_LIMIT = 1000
DEFAULT_NEWS_DAYS = 7
_FREQUENCIES = {"1min": 1, "5min": 5, "15min": 15, "30min": 30, "1hour": 60}


def _pattern(regex: str) -> Any:
    compiled = re.compile(regex)

    def match(path: str) -> dict[str, str] | None:
        found = compiled.fullmatch(path)
        return found.groupdict() if found else None

    return match


class TiingoEmulator(EmulatorServer):
    provider: ProviderName = "tiingo"

    def __init__(self, world: NewsWorld, api_key: str, **options: Any) -> None:
        super().__init__(world, api_key, **options)
        self.route("GET", _pattern(r"/tiingo/news/?"), self._news)
        self.route("GET", _pattern(r"/tiingo/daily/(?P<ticker>[^/]+)/prices/?"), self._daily)
        self.route("GET", _pattern(r"/iex/(?P<ticker>[^/]+)/prices/?"), self._intraday)

    def start(self) -> TiingoEmulator:
        super().start()
        return self

    def authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        token = header[6:].strip() if header.lower().startswith("token ") else ""
        return (request.query.get("token") or token) == self.api_key

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return Response(status, {"detail": f"Error: {message}"}, headers or {})

    def _news(self, request: Request) -> Response:
        query = request.query
        now = self.world.clock()
        start = _day(query, "startDate") or (now - timedelta(days=DEFAULT_NEWS_DAYS)).date()
        end = _day(query, "endDate") or now.date()
        limit = _integer(query, "limit", 100, 1, MAX_LIMIT)
        offset = _integer(query, "offset", 0, 0, 1_000_000)
        tickers = [t for t in query.get("tickers", "").split(",") if t.strip()]
        if not tickers:
            tickers = self.world.universe.symbols
        stories = self.world.stories(
            tickers,
            datetime.combine(start, time.min, UTC),
            datetime.combine(end, time.max, UTC),
            "tiingo",
        )
        if query.get("sortBy") == "crawlDate":
            stories.sort(key=lambda s: s.published_at, reverse=True)
        page = stories[offset : offset + limit]
        self.emit(page)
        return Response(
            200,
            [
                {
                    "id": s.tiingo_id,
                    "title": s.title,
                    "url": s.url,
                    "description": s.description,
                    "publishedDate": _timestamp(s.published_at),
                    "crawlDate": _timestamp(s.published_at + timedelta(seconds=47)),
                    "source": s.url.split("/")[2],
                    "tickers": [t.lower() for t in s.tickers],
                    "tags": list(s.tags),
                }
                for s in page
            ],
        )

    def _daily(self, request: Request) -> Response:
        ticker = self._listed(request.query["ticker"])
        now = self.world.clock().date()
        start = _day(request.query, "startDate") or now
        end = _day(request.query, "endDate") or now
        return Response(
            200,
            [
                {
                    "date": _timestamp(bar.timestamp),
                    "open": bar.open,
                    "high": bar.high,
                    "low": bar.low,
                    "close": bar.close,
                    "volume": bar.volume,
                    "adjOpen": bar.open,
                    "adjHigh": bar.high,
                    "adjLow": bar.low,
                    "adjClose": bar.close,
                    "adjVolume": bar.volume,
                    "divCash": 0.0,
                    "splitFactor": 1.0,
                }
                for bar in self.world.daily_bars(ticker, start, end)
            ],
        )

    def _intraday(self, request: Request) -> Response:
        ticker = self._listed(request.query["ticker"])
        frequency = request.query.get("resampleFreq", "5min")
        if frequency not in _FREQUENCIES:
            raise HttpError(
                self.error(400, f"resampleFreq must be one of {', '.join(_FREQUENCIES)}")
            )
        now = self.world.clock()
        start = _day(request.query, "startDate") or now.date()
        end = _day(request.query, "endDate") or now.date()
        bars = self.world.intraday_bars(
            ticker,
            datetime.combine(start, time.min, UTC),
            datetime.combine(end, time.max, UTC),
            _FREQUENCIES[frequency],
        )
        return Response(
            200,
            [
                {
                    "date": _timestamp(b.timestamp),
                    "open": b.open,
                    "high": b.high,
                    "low": b.low,
                    "close": b.close,
                    "volume": b.volume,
                }
                for b in bars
            ],
        )

    def _listed(self, ticker: str) -> str:
        if not self.world.universe.is_listed(ticker):
            raise HttpError(self.error(404, f"Ticker '{ticker.upper()}' not found"))
        return ticker.upper()


def _day(query: dict[str, str], name: str) -> date | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise HttpError(Response(400, {"detail": f"Error: {name} must be YYYY-MM-DD"})) from None


def _integer(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise HttpError(
            Response(400, {"detail": f"Error: {name} must be an integer from {low} to {high}"})
        )
    return int(raw)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
