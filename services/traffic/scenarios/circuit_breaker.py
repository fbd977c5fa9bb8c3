"""Circuit breaker: Tiingo fails (`tiingo_500`), ingestion cycles and price requests meet it,
the tiingo circuit opens after the failure threshold (prices then answer from a cached copy or
503 with `Retry-After` at once), and once the fault is off and `CIRCUIT_OPEN_TIMEOUT_S` has
passed it goes half-open and one trial call closes it."""

from __future__ import annotations

from services.traffic.client import TrafficClient
from services.traffic.scenarios.base import Options, ScenarioResult
from services.traffic.scenarios.chaos import outage

NAME = "circuit-breaker"
DESCRIPTION = "tiingo fails: its circuit opens, goes half-open, and closes"


async def run(client: TrafficClient, options: Options, result: ScenarioResult) -> None:
    await outage(client, options, result, "tiingo_500")
