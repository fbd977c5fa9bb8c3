"""Market routes: a configuration's current sentiment (signed in), and per ticker the price
candles and the sentiment history (public).

Two caches answer most reads: each configuration's sentiment for 5 minutes (keyed by its id
and version, so an edited watchlist is never served from the old entry), and prices in memory
then in the table. `X-Cache` says whether a cache answered; the price body also says which.

Cached prices are public; a price fetch from Tiingo (a miss in both caches) needs a session
and counts against its hourly allowance and the address's (`services/market/fetch_limits.py`):
without a session a miss is 401, past an allowance 429 with `Retry-After`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal, TypeVar
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter
from pydantic import BaseModel, Field

from services.api.caller_limits import client_address
from services.api.configuration_lookup import listed_configuration
from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.principal import current_principal, optional_principal
from services.auth.sessions import Principal
from services.clock import iso
from services.market.history import HistorySource, SentimentHistory, sentiment_history
from services.market.prices import (
    PriceAnswer,
)
from services.market.ranges import PriceResolution, RangeName
from services.market.sentiment_view import (
    ConfigurationSentiment,
    SourceView,
    TickerSentiment,
    configuration_sentiment,
)
from services.market.signals import PROVIDERS, SOURCE_ENDPOINTS, Status
from services.store.errors import NotFoundError
from services.store.models import Configuration

MAX_CONFIG_ID_LENGTH = 64
# No length limit in the schema: path parameters arrive percent-encoded (Powertools does not
# decode them), so a limit there would count escapes, not characters. They are decoded and
# checked here instead, and anything too long is simply not found.
ConfigId = Annotated[str, Path(min_length=1, description="the configuration's id")]
Symbol = Annotated[str, Path(min_length=1, description="a listed ticker symbol")]
CacheStatus = Literal["hit", "miss"]
T = TypeVar("T")


# --- response bodies -----------------------------------------------------------------------


class SourceSentimentOut(BaseModel):
    score: float
    label: str
    confidence: float
    count: int
    min_score: float | None
    max_score: float | None
    resolution: Literal["H", "D"]
    window_start: str
    window_end: str
    latest_bucket: str | None
    status: Status
    # The average relevance of the window's articles to this ticker, in [0, 1] (the score is
    # weighted by it); 1 for Finnhub's own figures; None without data.
    relevance: float | None = None

    @classmethod
    def of(cls, view: SourceView) -> SourceSentimentOut:
        w = view.window
        return cls(
            score=_round(w.score),
            label=w.label,
            confidence=_round(w.confidence),
            count=w.count,
            min_score=w.minimum,
            max_score=w.maximum,
            resolution=w.resolution,
            window_start=iso(w.start),
            window_end=iso(w.end),
            latest_bucket=iso(w.latest) if w.latest else None,
            status=view.status,
            relevance=None if w.relevance is None else _round(w.relevance),
        )


class AggregatedOut(BaseModel):
    score: float
    label: str
    confidence: float
    agreement: float
    count: int
    used: list[str]
    missing: list[str]


class TickerSourcesOut(BaseModel):
    tiingo: SourceSentimentOut
    finnhub: SourceSentimentOut
    our_model: SourceSentimentOut
    aggregated: AggregatedOut


class TickerSentimentOut(BaseModel):
    symbol: str
    sentiment: TickerSourcesOut

    @classmethod
    def of(cls, ticker: TickerSentiment) -> TickerSentimentOut:
        result = ticker.aggregated
        return cls(
            symbol=ticker.symbol,
            sentiment=TickerSourcesOut(
                tiingo=SourceSentimentOut.of(ticker.sources["tiingo"]),
                finnhub=SourceSentimentOut.of(ticker.sources["finnhub"]),
                our_model=SourceSentimentOut.of(ticker.sources["our_model"]),
                aggregated=AggregatedOut(
                    score=_round(result.score),
                    label=result.label,
                    confidence=_round(result.confidence),
                    agreement=_round(result.agreement),
                    count=ticker.aggregated_count,
                    used=list(result.used),
                    missing=list(result.missing),
                ),
            ),
        )


class SourceStatusOut(BaseModel):
    tiingo: Status
    finnhub: Status


class ConfigurationSentimentOut(BaseModel):
    config_id: str
    tickers: list[TickerSentimentOut]
    source_status: SourceStatusOut
    source_notes: dict[str, str] = Field(
        default_factory=dict,
        description="why a provider is `not_entitled`: the provider's words or the plan's",
    )
    last_updated: str
    cache_status: CacheStatus

    @classmethod
    def of(
        cls, view: ConfigurationSentiment, cache_status: CacheStatus
    ) -> ConfigurationSentimentOut:
        return cls(
            config_id=view.config_id,
            tickers=[TickerSentimentOut.of(t) for t in view.tickers],
            source_status=SourceStatusOut(
                tiingo=view.source_status["tiingo"], finnhub=view.source_status["finnhub"]
            ),
            source_notes=dict(view.source_notes),
            last_updated=iso(view.computed_at),
            cache_status=cache_status,
        )


@dataclass(frozen=True, slots=True)
class RenderedSentiment:
    """A configuration's sentiment as the two JSON bodies it is ever sent as. Rendering and
    serialising it costs more than everything else a cached read does, so it is done once
    per cache entry; the route's OpenAPI model still describes (and tests check) the body."""

    miss: str
    hit: str

    @classmethod
    def of(cls, view: ConfigurationSentiment) -> RenderedSentiment:
        body = ConfigurationSentimentOut.of(view, "miss")
        hit = body.model_copy(update={"cache_status": "hit"})
        return cls(body.model_dump_json(), hit.model_dump_json())


class CandleOut(BaseModel):
    date: str
    open: float
    high: float
    low: float
    close: float
    volume: int


class OhlcOut(BaseModel):
    ticker: str
    candles: list[CandleOut]
    count: int
    start_date: str
    end_date: str
    source: str
    range: str
    # True when the range asked for is too long for the candle size and a shorter one is
    # served (see `services.market.ranges.LONGEST_RANGE`).
    range_limited: bool
    resolution: str
    cache_layer: Literal["l1", "l2", "provider"]
    stale: bool
    fetched_at: str

    @classmethod
    def of(cls, answer: PriceAnswer, requested_range: str) -> OhlcOut:
        prices = answer.prices
        daily = prices.resolution == "D"
        candles = [
            CandleOut(
                date=_stamp(c.timestamp, daily),
                open=c.open,
                high=c.high,
                low=c.low,
                close=c.close,
                volume=c.volume,
            )
            for c in prices.candles
        ]
        return cls(
            ticker=prices.ticker,
            candles=candles,
            count=len(candles),
            start_date=prices.start_date.isoformat(),
            end_date=prices.end_date.isoformat(),
            source=prices.source,
            range=prices.range_name,
            range_limited=prices.range_name != requested_range,
            resolution=prices.resolution,
            cache_layer=answer.layer,
            stale=answer.stale,
            fetched_at=iso(prices.fetched_at),
        )


class HistoryPointOut(BaseModel):
    date: str
    score: float
    label: str
    confidence: float
    count: int
    source: str


class SentimentHistoryOut(BaseModel):
    ticker: str
    source: str
    range: str
    resolution: Literal["H", "D"]
    start: str
    end: str
    history: list[HistoryPointOut]
    count: int

    @classmethod
    def of(cls, found: SentimentHistory) -> SentimentHistoryOut:
        daily = found.resolution == "D"
        history = [
            HistoryPointOut(
                date=_stamp(p.at, daily),
                score=_round(p.score),
                label=p.label,
                confidence=_round(p.confidence),
                count=p.count,
                source=p.source,
            )
            for p in found.points
        ]
        return cls(
            ticker=found.ticker,
            source=found.source,
            range=found.window.name,
            resolution=found.resolution,
            start=iso(found.window.start),
            end=iso(found.window.end),
            history=history,
            count=len(history),
        )


# --- routes --------------------------------------------------------------------------------


def listed(deps: ApiDependencies, raw: str) -> str:
    """The listed symbol a path names, or a 404 naming what was asked."""
    symbol = unquote(raw)
    ticker = deps.universe.get(symbol)
    if ticker is None:
        name = symbol.strip().upper()[:20]
        raise ApiError(404, "UNKNOWN_TICKER", f"{name} is not a listed ticker", {"ticker": name})
    return ticker.symbol


def owned_configuration(deps: ApiDependencies, owner: Principal, config_id: str) -> Configuration:
    """The caller's configuration, from the caller's cached list (a warm read touches no
    table); not found when it is not theirs."""
    if len(config_id) > MAX_CONFIG_ID_LENGTH:
        raise NotFoundError("configuration not found")
    config = listed_configuration(
        deps.configuration_lists,
        owner.user.user_id,
        config_id,
        lambda: deps.configurations.list(owner),
    )
    if config is None:
        raise NotFoundError("configuration not found")
    return config


def rendered_sentiment(
    deps: ApiDependencies, config: Configuration
) -> tuple[RenderedSentiment, bool]:
    """A configuration's sentiment, rendered, from the cache when it holds this version under
    the same source status; and whether it did."""
    # A provider whose circuit opens (or closes) changes `source_status`: its own entry.
    failing = frozenset(p for p in PROVIDERS if deps.guard.breaker(p).view().state != "closed")
    # So does an endpoint the key's plan turns out not to include.
    not_entitled = {
        provider: refusal.reason
        for provider, (service, endpoint) in SOURCE_ENDPOINTS.items()
        if (refusal := deps.entitlements.refusal(service, endpoint)) is not None
    }
    return deps.configuration_sentiment.get_or_load(
        (config.config_id, config.version, failing, frozenset(not_entitled)),
        lambda: RenderedSentiment.of(
            configuration_sentiment(
                deps.store.sentiment, config.config_id, config.version, config.tickers,
                deps.clock(), failing, not_entitled,
            )
        ),
    )  # fmt: skip


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    @router.get(
        "/api/v2/configurations/<config_id>/sentiment",
        tags=["sentiment"],
        responses={
            200: {
                "description": "Each ticker's sentiment per source, and the sources' status",
                "content": {"application/json": {"model": ConfigurationSentimentOut}},
            }
        },
    )
    def get_configuration_sentiment(config_id: ConfigId) -> Response[str]:
        config = owned_configuration(deps, current_principal(router, deps), unquote(config_id))
        rendered, hit = rendered_sentiment(deps, config)
        status: CacheStatus = "hit" if hit else "miss"
        body = rendered.hit if hit else rendered.miss
        return Response(200, content_types.APPLICATION_JSON, body, headers={"X-Cache": status})

    @router.get("/api/v2/tickers/<ticker>/ohlc", tags=["tickers"])
    def get_ohlc(
        ticker: Symbol,
        range_name: Annotated[
            RangeName, Query(alias="range", description="how far back from now")
        ] = "1M",
        resolution: Annotated[
            PriceResolution, Query(description="D for daily bars, else minutes per bar")
        ] = "D",
    ) -> Response[OhlcOut]:
        symbol = listed(deps, ticker)

        def session_id() -> str | None:
            # Looked up only when Tiingo must be asked: a cached answer needs no session.
            principal = optional_principal(router, deps)
            return principal.session.session_id if principal else None

        permit = deps.price_fetch_limits.permit(session_id, client_address(router))
        answer = deps.prices.candles(symbol, range_name, resolution, permit=permit)
        headers = {"X-Cache": "hit" if answer.from_cache else "miss"}
        body = OhlcOut.of(answer, range_name)
        return Response(200, content_types.APPLICATION_JSON, body, headers=headers)

    @router.get("/api/v2/tickers/<ticker>/sentiment/history", tags=["tickers"])
    def get_sentiment_history(
        ticker: Symbol,
        range_name: Annotated[
            RangeName, Query(alias="range", description="how far back from now")
        ] = "1M",
        source: Annotated[
            HistorySource, Query(description="one source, or their ensemble per bucket")
        ] = "aggregated",
    ) -> SentimentHistoryOut:
        symbol = listed(deps, ticker)
        found = sentiment_history(deps.store.sentiment, symbol, range_name, source, deps.clock())
        return SentimentHistoryOut.of(found)

    return router


def _round(value: float) -> float:
    return round(value, 6)


def _stamp(moment: datetime, daily: bool) -> str:
    """Daily points as dates, intraday ones as UTC times: a chart can join prices and
    sentiment of the same day on the same string."""
    moment = moment.astimezone(UTC)
    return moment.date().isoformat() if daily else moment.strftime("%Y-%m-%dT%H:%M:%SZ")
