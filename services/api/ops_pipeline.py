"""Operator routes of the pipeline: run an ingestion cycle now; item counts per stage; the
embedded stack's history backfill (`backfill`: status, days done of total, articles ingested
and analyzed, times).

The counts are polled (the workbench asks every few seconds), so what one poll may cost is
bounded: a COUNT query of at most `OPS_COUNT_MAX_PAGES` pages per status, the result kept for
`OPS_COUNTS_CACHE_TTL_S` (and forgotten when this route runs an ingestion cycle, so the
operator sees its own cycle at once). A status with more articles than those pages hold is
listed in `truncated`; its count is then the larger of what was counted and the metrics
function's latest figure (it counts every minute), and `estimated` says so.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.operator import require_operator
from services.metrics.collect import PIPELINE_STATUSES
from services.ops.kept import KeptResult

LAST_RUNS = 5


def stage_counts(deps: ApiDependencies) -> dict[str, Any]:
    """Articles per status (bounded, see the module's note) and the latest cycles."""
    now = deps.clock()
    counted = {
        status: deps.store.census.count_status(
            status, now=now, max_pages=deps.settings.ops_count_max_pages
        )
        for status in PIPELINE_STATUSES
    }
    counts = {status: c.count for status, c in counted.items()}
    truncated = [status for status, c in counted.items() if not c.complete]
    estimated = False
    if truncated:
        snapshot = deps.store.metrics.latest_snapshot() or {}
        figures = snapshot.get("pipeline") or {}
        for status in truncated:
            known = figures.get(status)
            if isinstance(known, int) and known > counts[status]:
                counts[status], estimated = known, True
    return {
        "status_counts": counts,
        "truncated": truncated,
        "estimated": estimated,
        "last_runs": deps.store.ingestion_runs.latest(LAST_RUNS),
    }


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()
    kept: KeptResult[dict[str, Any]] = KeptResult(deps.settings.ops_counts_cache_ttl_s)

    def authorize() -> None:
        require_operator(router.current_event.headers, deps.settings)

    @router.post("/api/v2/ops/ingestion/run")
    def run_ingestion_now() -> dict[str, Any]:
        authorize()
        if deps.ingestion_runner is None:
            raise ApiError(
                501, "NOT_AVAILABLE", "this deployment runs ingestion on its schedule only"
            )
        summary = deps.ingestion_runner()
        kept.forget()
        return summary

    @router.get("/api/v2/ops/pipeline")
    def pipeline() -> dict[str, Any]:
        authorize()
        found, age_s = kept.get(lambda: stage_counts(deps))
        pending, analyzed = found["status_counts"]["pending"], found["status_counts"]["analyzed"]
        body: dict[str, Any] = {
            **found,
            "status_counts": dict(found["status_counts"]),
            "stages": {
                "ingested": pending + analyzed,
                "pending": pending,
                "analyzed": analyzed,
            },
            "age_s": round(age_s, 1),
        }
        # The runtime's own counters are in memory: always the current ones.
        if deps.pipeline_stats is not None:
            body["stages"].update(deps.pipeline_stats())
        # The embedded stack's history backfill (null where none ever ran, as in AWS): one
        # item read, not kept, so its progress is the current one.
        state = deps.store.backfill.get()
        body["backfill"] = state.as_dict() if state is not None else None
        return body

    return router
