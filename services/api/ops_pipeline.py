"""Operator routes of the pipeline: run an ingestion cycle now; item counts per stage."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.operator import require_operator
from services.store.articles import DynamoArticleRepository
from services.store.ingestion_runs import DynamoIngestionRunRepository


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    def authorize() -> None:
        require_operator(router.current_event.headers, deps.settings)

    @router.post("/api/v2/ops/ingestion/run")
    def run_ingestion_now() -> dict[str, Any]:
        authorize()
        if deps.ingestion_runner is None:
            raise ApiError(
                501, "NOT_AVAILABLE", "this deployment runs ingestion on its schedule only"
            )
        return deps.ingestion_runner()

    @router.get("/api/v2/ops/pipeline")
    def pipeline() -> dict[str, Any]:
        authorize()
        articles = DynamoArticleRepository(deps.table, clock=deps.clock)
        pending = articles.count_by_status("pending")
        analyzed = articles.count_by_status("analyzed")
        runs = DynamoIngestionRunRepository(deps.table).latest(5)
        body: dict[str, Any] = {
            "status_counts": {"pending": pending, "analyzed": analyzed},
            "stages": {
                "ingested": pending + analyzed,
                "pending": pending,
                "analyzed": analyzed,
            },
            "last_runs": runs,
        }
        if deps.pipeline_stats is not None:
            body["stages"].update(deps.pipeline_stats())
        return body

    return router
