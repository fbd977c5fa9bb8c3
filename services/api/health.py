"""GET /health: the service's health and its dependencies' status."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.ops.health import (
    HealthCheck,
    circuits_check,
    entitlements_check,
    evaluate,
    not_checked,
    quotas_check,
    timed_check,
)
from services.store.keys import health_probe


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    def probe_dynamodb() -> None:
        # A real read through the same table client the routes use.
        deps.table.get_item(Key=health_probe())

    @router.get("/health")
    def health() -> Response[Any]:
        guard = deps.guard
        table = timed_check("dynamodb", probe_dynamodb, critical=True)()
        checks: dict[str, HealthCheck] = {"dynamodb": lambda: table}
        if table.status == "healthy":
            # From this instance's copies (read again at most once a minute), never written:
            # a health probe must not cost a write per call.
            checks["circuits"] = circuits_check(
                lambda: {s: guard.breaker(s).view().state for s in guard.services}
            )
            checks["quotas"] = quotas_check(
                lambda: {
                    service: {v.name: v.level for v in views}
                    for service, views in guard.quotas.all_views().items()
                }
            )
            checks["plans"] = entitlements_check(deps.entitlements.refusals)
        else:
            # They live in the table: unknown now, and asking would only add the client's
            # retries to the probe's answer time.
            checks["circuits"] = not_checked("circuits", "the table is unreachable")
            checks["quotas"] = not_checked("quotas", "the table is unreachable")
        report = evaluate(checks)
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
