"""GET /health: the service's health and its dependencies' status.

Open to anyone and polled by monitors, so it costs little whatever the traffic: the table
probe's result is kept `HEALTH_CACHE_TTL_S` seconds (a flood costs at most one read per
period and instance; `checked_age_s` says how old the answer is), and the other checks read
the instance's own copies. A failed check names only its kind of error; the full text goes
to the log, with the correlation ID of the request that ran the check, and into the answer
only for a caller bearing the operator token.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.operator import require_operator
from services.ops.health import (
    CheckResult,
    HealthCheck,
    circuits_check,
    entitlements_check,
    evaluate,
    not_checked,
    quotas_check,
    timed_check,
)
from services.ops.kept import KeptResult

LOG = logging.getLogger(__name__)


def health_checks(deps: ApiDependencies, table: CheckResult) -> dict[str, HealthCheck]:
    """The table's probe result, and what can be told of the rest from this instance."""
    guard = deps.guard
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
    return checks


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()
    kept_probe: KeptResult[CheckResult] = KeptResult(deps.settings.health_cache_ttl_s)

    def probe_dynamodb() -> None:
        # A real read through the same store the routes use.
        deps.store.census.probe()

    def is_operator() -> bool:
        # The token is compared by its hash in constant time: no table read.
        try:
            require_operator(router.current_event.headers, deps.settings)
        except ApiError:
            return False
        return True

    @router.get("/health")
    def health() -> Response[Any]:
        table, age_s = kept_probe.get(timed_check("dynamodb", probe_dynamodb, critical=True))
        report = evaluate(health_checks(deps, table))
        failed = {n: r.diagnostic for n, r in report.checks.items() if r.diagnostic}
        # The probe's failure is logged by the request that ran it, not by every request
        # answered from it: a flood during an outage must not become a flood of log lines.
        logged = {n: d for n, d in failed.items() if n != "dynamodb" or age_s == 0.0}
        if logged:
            LOG.warning(
                "health check failed",
                extra={
                    "correlation_id": router.context.get("correlation_id"),
                    "failures": logged,
                },
            )
        operator = bool(failed) and is_operator()
        body = {
            "status": report.status,
            "version": deps.settings.service_version,
            "environment": deps.settings.environment,
            "checked_age_s": round(age_s, 1),
            "checks": {
                name: {
                    "status": result.status,
                    **result.details,
                    **({"diagnostic": result.diagnostic} if operator and result.diagnostic else {}),
                }
                for name, result in report.checks.items()
            },
        }
        return Response(
            status_code=503 if report.status == "unhealthy" else 200,
            content_type=content_types.APPLICATION_JSON,
            body=body,
        )

    return router
