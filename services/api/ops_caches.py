"""`GET /api/v2/ops/caches`: every cache layer of this instance, with the DynamoDB reads its
hits saved (measured per entry, see `services.caching`)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter
from pydantic import BaseModel

from services.api.dependencies import ApiDependencies
from services.api.operator import require_operator


class CacheLayerOut(BaseModel):
    ttl_s: float
    hits: int
    misses: int
    hit_rate: float
    entries: int
    reads_saved: int
    loads: int
    reads_per_load: float


class CacheTotalsOut(BaseModel):
    hits: int
    misses: int
    hit_rate: float
    entries: int
    reads_saved: int
    loads: int
    load_reads: int


class CachesOut(BaseModel):
    layers: dict[str, CacheLayerOut]
    totals: CacheTotalsOut


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    @router.get("/api/v2/ops/caches", tags=["ops"])
    def caches() -> CachesOut:
        require_operator(router.current_event.headers, deps.settings)
        return CachesOut.model_validate(deps.cache_layers().report())

    return router
