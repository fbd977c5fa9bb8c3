"""The service's metrics, from `GET /api/v2/ops/metrics`, read without assuming every field.

The answer is flattened into named figures (`latency.p99_ms`) and groups of figures (a
distribution, counts per route), whatever the nesting, so a chart shows what the route
reports; a route not served yet (404) leaves the store `missing`, and the page says so.
"""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiResult, Problem
from workbench.stores.operator import ABSENT_CREDENTIAL_NOTE, OperatorRoute


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def figures_of(body: Any, prefix: str = "") -> dict[str, float]:
    """Every number in `body`, keyed by its dotted path."""
    found: dict[str, float] = {}
    if isinstance(body, dict):
        for key, value in body.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            number = _number(value)
            if number is not None:
                found[path] = number
            else:
                found.update(figures_of(value, path))
    return found


def _bookkeeping(key: str) -> bool:
    """Figures that describe a group rather than belong to it (its window, its sum)."""
    return key == "total" or key.endswith("_s")


def groups_of(body: Any, prefix: str = "") -> dict[str, dict[str, float]]:
    """Every object holding two or more numbers, keyed by its dotted path: what a chart draws."""
    groups: dict[str, dict[str, float]] = {}
    if not isinstance(body, dict):
        return groups
    numbers = {
        str(k): n
        for k, v in body.items()
        if (n := _number(v)) is not None and not _bookkeeping(str(k))
    }
    if prefix and len(numbers) >= 2:
        groups[prefix] = numbers
    for key, value in body.items():
        if isinstance(value, dict):
            groups.update(groups_of(value, f"{prefix}.{key}" if prefix else str(key)))
    rates = {
        name: n
        for name, layer in (body.get("layers") or {}).items()
        if isinstance(layer, dict) and (n := _number(layer.get("hit_rate"))) is not None
    }
    if rates:
        # Per-layer groups mix counts and rates; one chart of the rates reads better.
        groups = {k: v for k, v in groups.items() if not k.startswith(f"{prefix}.layers.")}
        groups[f"{prefix}.hit_rate by layer" if prefix else "hit_rate by layer"] = rates
    return groups


def series_of(body: Any) -> list[dict[str, Any]]:
    """The per-minute series (`api.per_minute`), when the route reports one."""
    api = body.get("api") if isinstance(body, dict) else None
    series = api.get("per_minute") if isinstance(api, dict) else None
    return [row for row in series if isinstance(row, dict)] if isinstance(series, list) else []


def find_figure(figures: dict[str, float], *names: str) -> float | None:
    """The first figure whose path ends with one of `names` (e.g. `p99_ms`)."""
    for name in names:
        for path, value in figures.items():
            if path == name or path.endswith(f".{name}"):
                return value
    return None


class MetricsStore(OperatorRoute):
    figures = param.Dict(default={}, doc="dotted path -> number")
    groups = param.Dict(default={}, doc="dotted path -> {name: number}")
    series = param.List(default=[], doc="per-minute rows: minute, requests, p50, p99, ...")
    computed_at = param.String(default="", doc="when the metrics function computed them")
    problem = param.ClassSelector(class_=Problem, allow_None=True)

    async def fetch(self, token: str) -> ApiResult:
        return await self.client.ops_metrics(token)

    def read(self, body: dict[str, Any]) -> None:
        self.param.update(
            figures=figures_of(body),
            groups=groups_of(body),
            series=series_of(body),
            computed_at=str(body.get("computed_at") or ""),
        )

    async def run_now(self) -> None:
        """Ask the metrics function to compute a snapshot now (where the runtime can)."""
        token = self._operator_token()
        if token is None:
            self.problem = Problem(0, "NO_OPERATOR_TOKEN", ABSENT_CREDENTIAL_NOTE)
            return
        result = await self.client.ops_run_metrics(token)
        self.problem = result.problem
        await self.refresh()

    def figure(self, *names: str) -> float | None:
        return find_figure(self.figures, *names) if self.status == "live" else None
