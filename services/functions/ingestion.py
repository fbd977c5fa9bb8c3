"""The ingestion function: on its schedule, fetch news for every tracked ticker."""

from __future__ import annotations

from typing import Any

from services.composition.ingestion import deployed_ingestion
from services.ingestion.cycle import IngestionCycle, run_cycle


def handler(
    event: dict[str, Any], context: Any, deps: IngestionCycle | None = None
) -> dict[str, Any]:
    """EventBridge scheduled event in, the cycle's summary out."""
    return run_cycle(deps or deployed_ingestion())
