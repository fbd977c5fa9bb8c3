"""Ticker look-up against the exchange list (public: no account needed)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.schemas import TickerOut, TickerSearch, TickerValidation


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    @router.get("/api/v2/tickers/search", tags=["tickers"])
    def search(
        q: Annotated[str, Query(min_length=1, max_length=50)],
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> TickerSearch:
        results = [TickerOut.of(t) for t in deps.universe.search(q, limit)]
        return TickerSearch(query=q, results=results, count=len(results))

    @router.get("/api/v2/tickers/validate", tags=["tickers"])
    def validate(symbol: Annotated[str, Query(min_length=1, max_length=10)]) -> TickerValidation:
        ticker = deps.universe.get(symbol)
        return TickerValidation(
            symbol=symbol.strip().upper(),
            valid=ticker is not None,
            ticker=TickerOut.of(ticker) if ticker else None,
            exchanges=deps.universe.exchanges,
        )

    return router
