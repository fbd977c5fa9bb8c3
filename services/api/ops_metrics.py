"""`GET /api/v2/ops/metrics`: the metrics function's latest snapshot (60 s read-through), and
`POST /api/v2/ops/metrics/run` to compute one now where the runtime can (the local stack)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.operator import require_operator

SNAPSHOT_KEY = "latest"


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    def authorize() -> None:
        require_operator(router.current_event.headers, deps.settings)

    def latest() -> dict[str, Any]:
        snapshot = deps.store.metrics.latest_snapshot()
        if snapshot is None:
            raise ApiError(
                404,
                "NOT_FOUND",
                "no metrics yet: the metrics function has not run (it runs every minute)",
            )
        return snapshot

    @router.get("/api/v2/ops/metrics")
    def metrics() -> dict[str, Any]:
        authorize()
        snapshot, hit = deps.metrics_snapshots.get_or_load(SNAPSHOT_KEY, latest)
        history = router.current_event.get_query_string_value("history", "")
        body = {**snapshot, "cached": hit}
        if history in ("1", "true"):
            since = deps.clock() - timedelta(minutes=60)
            body["history"] = deps.store.metrics.snapshots(since)
        return body

    @router.post("/api/v2/ops/metrics/run")
    def run_metrics_now() -> dict[str, Any]:
        authorize()
        if deps.metrics_runner is None:
            raise ApiError(
                501, "NOT_AVAILABLE", "this deployment runs metrics on its schedule only"
            )
        # This instance's own minutes go out first, so the run sees its latest requests.
        deps.request_metrics.flush()
        snapshot = deps.metrics_runner()
        deps.metrics_snapshots.invalidate(SNAPSHOT_KEY)
        return snapshot

    return router
