"""The metrics function, every minute: count the system's figures, store them for
`/api/v2/ops/metrics`, and emit them as CloudWatch EMF."""

from __future__ import annotations

from typing import Any

from services.composition.metrics import deployed_metrics
from services.metrics.run import MetricsDependencies, run_metrics


def handler(
    event: dict[str, Any], context: Any, deps: MetricsDependencies | None = None
) -> dict[str, Any]:
    return run_metrics(deps or deployed_metrics())
