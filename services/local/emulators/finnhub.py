"""Finnhub's wire format under `/api/v1`: company news, news sentiment and stock candles.

Auth is `X-Finnhub-Token: <key>` or `?token=<key>`; errors are `{"error": "..."}`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from services.local.emulators.base import EmulatorServer, HttpError, Request, Response
from services.local.emulators.world import NewsWorld, ProviderName

API_ROOT = "/api/v1"
_RESOLUTIONS = {"1": 1, "5": 5, "15": 15, "30": 30, "60": 60, "D": 0}


def _exact(path: str) -> Any:
    return lambda candidate: {} if candidate.rstrip("/") == API_ROOT + path else None


class FinnhubEmulator(EmulatorServer):
    provider: ProviderName = "finnhub"

    def __init__(self, world: NewsWorld, api_key: str, **options: Any) -> None:
        super().__init__(world, api_key, **options)
        self.route("GET", _exact("/company-news"), self._company_news)
        self.route("GET", _exact("/news-sentiment"), self._news_sentiment)
        self.route("GET", _exact("/stock/candle"), self._candles)

    def start(self) -> FinnhubEmulator:
        super().start()
        return self

    @property
    def url(self) -> str:
        return self.root_url + API_ROOT

    def authorized(self, request: Request) -> bool:
        token = request.query.get("token") or request.headers.get("x-finnhub-token", "")
        return token == self.api_key

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        if status == 429:
            message = "API limit reached. Please try again later. Remaining Limit: 0"
        return Response(status, {"error": message}, headers or {})

    def _company_news(self, request: Request) -> Response:
        symbol = _required(self, request, "symbol").upper()
        start = _date(self, request, "from")
        end = _date(self, request, "to")
        stories = self.world.stories(
            [symbol],
            datetime.combine(start, time.min, UTC),
            datetime.combine(end, time.max, UTC),
            "finnhub",
        )
        self.emit(stories)
        return Response(
            200,
            [
                {
                    "category": "company",
                    "datetime": int(s.published_at.timestamp()),
                    "headline": s.title,
                    "id": s.finnhub_id,
                    "image": "",
                    # Finnhub's `related` is a comma-separated string of symbols.
                    "related": ",".join([symbol, *(t for t in s.tickers if t != symbol)]),
                    "source": s.source,
                    "summary": s.description,
                    "url": s.url,
                }
                for s in stories
            ],
        )

    def _news_sentiment(self, request: Request) -> Response:
        symbol = _required(self, request, "symbol").upper()
        if not self.world.universe.is_listed(symbol):
            return Response(200, {"buzz": {}, "sentiment": {}, "symbol": symbol})
        figures = self.world.news_sentiment(symbol)
        return Response(
            200,
            {
                "buzz": {
                    "articlesInLastWeek": figures["articles_in_last_week"],
                    "buzz": round(float(figures["buzz"]), 4),
                    "weeklyAverage": round(float(figures["weekly_average"]), 4),
                },
                "companyNewsScore": round(float(figures["company_news_score"]), 4),
                "sectorAverageBullishPercent": 0.5,
                "sectorAverageNewsScore": 0.5,
                "sentiment": {
                    "bearishPercent": round(float(figures["bearish_percent"]), 4),
                    "bullishPercent": round(float(figures["bullish_percent"]), 4),
                },
                "symbol": symbol,
            },
        )

    def _candles(self, request: Request) -> Response:
        symbol = _required(self, request, "symbol").upper()
        resolution = _required(self, request, "resolution")
        if resolution not in _RESOLUTIONS:
            raise HttpError(self.error(422, f"Unsupported resolution {resolution!r}"))
        start, end = (_unix(self, request, name) for name in ("from", "to"))
        if resolution == "D":
            bars = self.world.daily_bars(symbol, start.date(), end.date())
        else:
            bars = self.world.intraday_bars(symbol, start, end, _RESOLUTIONS[resolution])
        if not bars:
            return Response(200, {"s": "no_data"})
        return Response(
            200,
            {
                "c": [b.close for b in bars],
                "h": [b.high for b in bars],
                "l": [b.low for b in bars],
                "o": [b.open for b in bars],
                "s": "ok",
                "t": [int(b.timestamp.timestamp()) for b in bars],
                "v": [b.volume for b in bars],
            },
        )


def _required(emulator: FinnhubEmulator, request: Request, name: str) -> str:
    value = request.query.get(name, "").strip()
    if not value:
        raise HttpError(emulator.error(422, f"Missing required parameter: {name}"))
    return value


def _date(emulator: FinnhubEmulator, request: Request, name: str) -> date:
    raw = _required(emulator, request, name)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        message = f"Wrong date format for {name}: use YYYY-MM-DD"
        raise HttpError(emulator.error(422, message)) from None


def _unix(emulator: FinnhubEmulator, request: Request, name: str) -> datetime:
    raw = _required(emulator, request, name)
    if not raw.lstrip("-").isdigit():
        raise HttpError(emulator.error(422, f"{name} must be a UNIX timestamp"))
    return datetime.fromtimestamp(int(raw), UTC)
