"""The monthly cost estimate, from `services.costs` when this checkout has it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import param

from services.settings import Settings

# The names a cost model may publish its estimate under, tried in order.
ESTIMATORS = ("monthly_estimate", "estimate_monthly_cost", "monthly_cost", "estimate")


def find_estimator() -> Callable[..., Any] | None:
    try:
        module = importlib.import_module("services.costs")
    except ImportError:
        return None
    for name in ESTIMATORS:
        found = getattr(module, name, None)
        if callable(found):
            return found  # type: ignore[no-any-return]
    return None


def total_of(estimate: Any) -> float | None:
    """A number, a mapping with a total, or an object with one."""
    if isinstance(estimate, int | float) and not isinstance(estimate, bool):
        return float(estimate)
    for key in ("total_usd", "monthly_usd", "total", "usd"):
        value = estimate.get(key) if isinstance(estimate, dict) else getattr(estimate, key, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


class CostStore(param.Parameterized):
    monthly_usd = param.Number(default=None, allow_None=True)
    note = param.String(default="")

    def __init__(self, settings: Settings, **params: Any) -> None:
        super().__init__(**params)
        self._settings = settings

    async def refresh(self) -> None:
        estimator = find_estimator()
        if estimator is None:
            self.param.update(monthly_usd=None, note="not available: no cost model yet")
            return
        try:
            estimate = estimator(self._settings)
        except TypeError:
            estimate = estimator()
        total = total_of(estimate)
        self.param.update(
            monthly_usd=total,
            note=f"services.costs.{estimator.__name__}" if total is not None else "not available",
        )
