"""GET /health: the service's health and its dependencies' status."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.ops.health import evaluate, timed_check
from services.store.keys import health_probe


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    def probe_dynamodb() -> None:
        # A real read through the same table client the routes use.
        deps.table.get_item(Key=health_probe())

    @router.get("/health")
    def health() -> Response[Any]:
        report = evaluate({"dynamodb": timed_check("dynamodb", probe_dynamodb, critical=True)})
        body = {
            "status": report.status,
            "version": deps.settings.service_version,
            "environment": deps.settings.environment,
            "checks": {
                name: {"status": result.status, **result.details}
                for name, result in report.checks.items()
            },
        }
        return Response(
            status_code=503 if report.status == "unhealthy" else 200,
            content_type=content_types.APPLICATION_JSON,
            body=body,
        )

    return router
