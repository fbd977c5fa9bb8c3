"""Tiingo's wire format: `/tiingo/news`, `/tiingo/daily/<ticker>/prices`, `/iex/<ticker>/prices`.

Auth is `Authorization: Token <key>` or `?token=<key>`; errors are `{"detail": "..."}`.

Plans (`plan="free" | "paid"`, default "paid"; `POST /_emulator/plan` switches at run time,
`GET /_emulator/usage` shows the counts; see `base.py`):

- `/tiingo/news` is a premium feature. On the free plan it answers what Tiingo answers a free
  key: 403 `{"detail": "You do not have permission to access the News API"}`. Prices are on
  both plans.
- Limits (`TiingoLimits`): the free plan's are Tiingo's, 50 requests an hour, 1,000 a day and
  500 distinct symbols a month; the paid plan's are generous (`TIINGO_PAID`). Periods are
  calendar hours, days and months (UTC) of the world's clock. Symbols are a news request's
  `tickers` and a prices path's ticker, upper-cased.
- The answers once a limit is spent, as Tiingo was seen giving them:
  - the hour's (or the day's) requests: **429** with `{"detail": "Error: You have run over
    your hourly request allocation. Please upgrade at https://api.tiingo.com/pricing to have
    your limits increased."}` ("daily" for the day's). The hourly answer is the one recorded
    from Tiingo (clients also guard against the same sentence in a 200, but the recorded
    status is 429); the daily one follows its wording. No `Retry-After`: none is known to
    come with it, so a client has to cope without.
  - the month's distinct symbols: a request naming a symbol not yet looked up this month gets
    **200** with `{"detail": "You have run over your 500 symbol look up for this month. Please
    upgrade at https://api.tiingo.com/pricing to have your limits increased."}` (the number is
    the plan's). That is the form seen recently; `symbol_cap_body="text"` sends the same
    sentence as plain text instead, the form first reported. Either way a 200 whose body is
    not the data asked for. Symbols already looked up this month still answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from services.local.emulators.base import (
    Allowance,
    EmulatorServer,
    HttpError,
    Request,
    Response,
)
from services.local.emulators.world import NewsWorld, ProviderName

MAX_LIMIT = 1000
DEFAULT_NEWS_DAYS = 7
_FREQUENCIES = {"1min": 1, "5min": 5, "15min": 15, "30min": 30, "1hour": 60}
PRICING_URL = "https://api.tiingo.com/pricing"
NEWS_FORBIDDEN = "You do not have permission to access the News API"
SymbolCapBody = Literal["json", "text"]
_NEWS = r"/tiingo/news/?"
_DAILY = r"/tiingo/daily/(?P<ticker>[^/]+)/prices/?"
_INTRADAY = r"/iex/(?P<ticker>[^/]+)/prices/?"
_PRICE_PATHS = (re.compile(_DAILY), re.compile(_INTRADAY))


@dataclass(frozen=True)
class TiingoLimits:
    """A Tiingo plan's limits; 0 is no limit."""

    requests_per_hour: int
    requests_per_day: int
    symbols_per_month: int

    def allowances(self) -> tuple[Allowance, ...]:
        return (
            Allowance("requests_per_hour", "hour", self.requests_per_hour),
            Allowance("requests_per_day", "day", self.requests_per_day),
            Allowance("symbols_per_month", "month", self.symbols_per_month, "symbol"),
        )


TIINGO_FREE = TiingoLimits(requests_per_hour=50, requests_per_day=1_000, symbols_per_month=500)
# Far beyond what the embedded stack, the tests and the benchmarks ask for.
TIINGO_PAID = TiingoLimits(requests_per_hour=10_000, requests_per_day=100_000, symbols_per_month=0)


def _pattern(regex: str) -> Any:
    compiled = re.compile(regex)

    def match(path: str) -> dict[str, str] | None:
        found = compiled.fullmatch(path)
        return found.groupdict() if found else None

    return match


class TiingoEmulator(EmulatorServer):
    provider: ProviderName = "tiingo"

    premium_paths = ("/tiingo/news",)
    free_plan = TIINGO_FREE
    paid_plan = TIINGO_PAID

    def __init__(
        self,
        world: NewsWorld,
        api_key: str,
        *,
        symbol_cap_body: SymbolCapBody = "json",
        **options: Any,
    ) -> None:
        """`options`: the plan, its limits, the port (`EmulatorServer`)."""
        super().__init__(world, api_key, **options)
        if symbol_cap_body not in ("json", "text"):
            raise ValueError("symbol_cap_body must be 'json' or 'text'")
        self.symbol_cap_body: SymbolCapBody = symbol_cap_body
        self.route("GET", _pattern(_NEWS), self._news)
        self.route("GET", _pattern(_DAILY), self._daily)
        self.route("GET", _pattern(_INTRADAY), self._intraday)

    def start(self) -> TiingoEmulator:
        super().start()
        return self

    def authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        token = header[6:].strip() if header.lower().startswith("token ") else ""
        return (request.query.get("token") or token) == self.api_key

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return Response(status, {"detail": f"Error: {message}"}, headers or {})

    # --- the plans -------------------------------------------------------------------------

    def symbols(self, request: Request) -> tuple[str, ...]:
        for prices in _PRICE_PATHS:
            found = prices.fullmatch(request.path)
            if found is not None:
                return (found["ticker"],)
        if re.fullmatch(_NEWS, request.path):
            return tuple(t for t in request.query.get("tickers", "").split(",") if t.strip())
        return ()

    def over_limit(self, allowance: Allowance, retry_after_s: float) -> Response:
        if allowance.unit == "symbol":
            sentence = (
                f"You have run over your {allowance.limit} symbol look up for this month. "
                f"Please upgrade at {PRICING_URL} to have your limits increased."
            )
            if self.symbol_cap_body == "text":
                return Response(
                    200, sentence.encode(), {"Content-Type": "text/plain; charset=utf-8"}
                )
            return Response(200, {"detail": sentence})
        which = "hourly" if allowance.period == "hour" else "daily"
        return Response(
            429,
            {
                "detail": f"Error: You have run over your {which} request allocation. "
                f"Please upgrade at {PRICING_URL} to have your limits increased."
            },
        )

    def not_in_plan(self, request: Request) -> Response:
        return Response(403, {"detail": NEWS_FORBIDDEN})

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
