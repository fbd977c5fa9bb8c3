"""`GET /api/v2/ops/caches`: every cache layer, added up over the function's execution
environments seen in the last minutes, with the DynamoDB reads their hits saved (measured per
entry, see `services.caching`), and one line per environment (`environments`).

Each environment keeps its caches in its own memory and publishes its counters to the table
(`services.caching.shared`); the one answering publishes its own first, so with a single
environment the figures are exactly its own. `?scope=environment` answers the answering
environment's counters alone, as they are in its memory.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter
from pydantic import BaseModel

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.operator import require_operator

SCOPES = ("all", "environment")


class CacheCountsOut(BaseModel):
    """What every cache figure counts, for a layer, the totals or one environment."""

    hits: int
    misses: int
    hit_rate: float
    entries: int
    reads_saved: int


class CacheLayerOut(CacheCountsOut):
    ttl_s: float
    loads: int
    reads_per_load: float


class CacheTotalsOut(CacheCountsOut):
    loads: int
    load_reads: int


class EnvironmentOut(CacheCountsOut):
    instance: str
    pid: int | None
    answering: bool
    last_seen: str
    age_s: float


class AnsweredByOut(BaseModel):
    instance: str
    pid: int | None


class CachesOut(BaseModel):
    layers: dict[str, CacheLayerOut]
    totals: CacheTotalsOut
    scope: str
    environments: list[EnvironmentOut]
    answered_by: AnsweredByOut
    # Environments that published within this many seconds are counted.
    seen_within_s: int
    # False when the other environments' counters could not be read: this one's alone.
    shared: bool


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    @router.get("/api/v2/ops/caches", tags=["ops"])
    def caches() -> CachesOut:
        require_operator(router.current_event.headers, deps.settings)
        scope = router.current_event.get_query_string_value("scope", "all") or "all"
        if scope not in SCOPES:
            raise ApiError(
                400,
                "BAD_PARAMETER",
                f"scope must be one of {', '.join(SCOPES)}",
                {"field": "scope"},
            )
        # Every layer of this API is built first, so each is listed before its first read.
        deps.cache_layers()
        report: dict[str, Any] = deps.shared_caches.report(others=scope == "all")
        return CachesOut.model_validate({**report, "scope": scope})

    return router
