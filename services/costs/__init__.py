"""What an environment costs a month on AWS, from stated usage assumptions (pure, typed)."""

from services.costs.model import (
    FUNCTIONS,
    SEED_DEV,
    SEED_DEV_ESTIMATE_USD,
    CostBreakdown,
    CostPoint,
    FunctionProfile,
    LineItem,
    UsageAssumptions,
    cost_grid,
    monthly_cost,
    monthly_invocations,
)
from services.costs.prices import ALWAYS_FREE, US_EAST_1, FreeTier, Prices

__all__ = [
    "ALWAYS_FREE",
    "FUNCTIONS",
    "SEED_DEV",
    "SEED_DEV_ESTIMATE_USD",
    "US_EAST_1",
    "CostBreakdown",
    "CostPoint",
    "FreeTier",
    "FunctionProfile",
    "LineItem",
    "Prices",
    "UsageAssumptions",
    "cost_grid",
    "monthly_cost",
    "monthly_invocations",
]
