"""The monthly cost estimate of the dev environment, from the cost model (`services.costs`).

The model prices stated usage assumptions (users, tickers, schedules, per-call durations and
table units); the page shows its total for the dev environment's assumptions and says which
ones. A checkout without the model shows "not available".
"""

from __future__ import annotations

import importlib
from typing import Any

import param


class CostStore(param.Parameterized):
    monthly_usd = param.Number(default=None, allow_None=True)
    by_service = param.Dict(default={}, doc="service -> USD a month")
    note = param.String(default="")

    async def refresh(self) -> None:
        self.load()

    def load(self) -> None:
        try:
            costs: Any = importlib.import_module("services.costs")
        except ImportError:
            self.param.update(monthly_usd=None, note="not available: no cost model here")
            return
        assumptions = costs.SEED_DEV
        breakdown = costs.monthly_cost(assumptions)
        self.param.update(
            monthly_usd=float(breakdown.total_usd),
            by_service={k: round(v, 4) for k, v in breakdown.by_service().items()},
            note=(
                f"services.costs.monthly_cost for the dev environment: {assumptions.users} "
                f"users, {assumptions.tickers} tickers, ingestion every "
                f"{assumptions.ingestion_interval_minutes:g} min, "
                f"{assumptions.lambda_memory_mb} MB functions, free tier applied"
            ),
        )
