"""Finnhub's wire format under `/api/v1`: company news, news sentiment and stock candles.

Auth is `X-Finnhub-Token: <key>` or `?token=<key>`; errors are `{"error": "..."}`.

Plans (`plan="free" | "paid"`, default "paid"; `POST /_emulator/plan` switches at run time,
`GET /_emulator/usage` shows the counts; see `base.py`):

- `/news-sentiment` and `/stock/candle` are premium: on the free plan they answer 403
  `{"error": "You don't have access to this resource."}`, as Finnhub answers a free key.
  `/company-news` is on both plans.
- Limits (`FinnhubLimits`): the free plan's are Finnhub's, 60 calls a minute and, on top of
  any plan's limit, 30 a second; the paid plan's are generous (`FINNHUB_PAID`, whose
  per-second cap is off so the embedded stack's parallel bursts never meet it; pass
  `paid_limits` to model it). Periods are calendar seconds and minutes (UTC) of the world's
  clock. A spent limit answers 429 `{"error": "API limit reached. Please try again later.
  Remaining Limit: 0"}`, without `Retry-After` (none is known to come with it).

Thin coverage (`thin_coverage=N`, or `POST /_emulator/nulls {"below": N}`; `DELETE` turns it
off, the default): `/news-sentiment` for a symbol with fewer than N stories in the last 7 days
answers what Finnhub answers for a symbol without news: `buzz.buzz`, `companyNewsScore` and
the whole `sentiment` object are `null`, while `buzz.articlesInLastWeek`,
`buzz.weeklyAverage` and the sector averages stay numbers. Finnhub was seen doing this for a
symbol with no article in the week, so N = 1 is what it does; a larger N plays a provider
that needs more stories before it scores a symbol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from services.local.emulators.base import (
    Allowance,
    EmulatorServer,
    HttpError,
    Request,
    Response,
)
from services.local.emulators.world import NewsWorld, ProviderName

API_ROOT = "/api/v1"
_RESOLUTIONS = {"1": 1, "5": 5, "15": 15, "30": 30, "60": 60, "D": 0}
NULLS_PATH = "/_emulator/nulls"
NO_ACCESS = "You don't have access to this resource."
LIMIT_REACHED = "API limit reached. Please try again later. Remaining Limit: 0"


@dataclass(frozen=True)
class FinnhubLimits:
    """A Finnhub plan's limits; 0 is no limit."""

    calls_per_minute: int
    calls_per_second: int

    def allowances(self) -> tuple[Allowance, ...]:
        return (
            Allowance("calls_per_second", "second", self.calls_per_second),
            Allowance("calls_per_minute", "minute", self.calls_per_minute),
        )


FINNHUB_FREE = FinnhubLimits(calls_per_minute=60, calls_per_second=30)
# Far beyond what the embedded stack, the tests and the benchmarks ask for.
FINNHUB_PAID = FinnhubLimits(calls_per_minute=900, calls_per_second=0)


def _exact(path: str) -> Any:
    return lambda candidate: {} if candidate.rstrip("/") == API_ROOT + path else None


class FinnhubEmulator(EmulatorServer):
    provider: ProviderName = "finnhub"

    premium_paths = (f"{API_ROOT}/news-sentiment", f"{API_ROOT}/stock/candle")
    free_plan = FINNHUB_FREE
    paid_plan = FINNHUB_PAID

    def __init__(
        self, world: NewsWorld, api_key: str, *, thin_coverage: int = 0, **options: Any
    ) -> None:
        """`options`: the plan, its limits, the port (`EmulatorServer`)."""
        super().__init__(world, api_key, **options)
        if thin_coverage < 0:
            raise ValueError("thin_coverage is a number of stories, 0 for off")
        self.thin_coverage = thin_coverage
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
            message = LIMIT_REACHED
        return Response(status, {"error": message}, headers or {})

    def over_limit(self, allowance: Allowance, retry_after_s: float) -> Response:
        return Response(429, {"error": LIMIT_REACHED})

    def not_in_plan(self, request: Request) -> Response:
        return Response(403, {"error": NO_ACCESS})

    def _control(self, request: Request) -> Response:
        if request.path == NULLS_PATH:
            if request.method == "POST":
                below = request.body.get("below") if isinstance(request.body, dict) else None
                if not isinstance(below, int) or isinstance(below, bool) or below < 0:
                    return Response(400, {"detail": "'below' must be a whole number of stories"})
                self.thin_coverage = below
            elif request.method == "DELETE":
                self.thin_coverage = 0
            return Response(200, {"below": self.thin_coverage})
        return super()._control(request)

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
        # Too few stories to score: Finnhub's nulls (see the module's docstring).
        thin = int(figures["articles_in_last_week"]) < self.thin_coverage
        return Response(
            200,
            {
                "buzz": {
                    "articlesInLastWeek": figures["articles_in_last_week"],
                    "buzz": None if thin else round(float(figures["buzz"]), 4),
                    "weeklyAverage": round(float(figures["weekly_average"]), 4),
                },
                "companyNewsScore": (
                    None if thin else round(float(figures["company_news_score"]), 4)
                ),
                "sectorAverageBullishPercent": 0.5,
                "sectorAverageNewsScore": 0.5,
                "sentiment": None
                if thin
                else {
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
