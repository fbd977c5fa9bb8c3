"""The pipeline's counts per stage and the history backfill, from `GET /api/v2/ops/pipeline`."""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiResult
from workbench.stores.operator import OperatorRoute


class PipelineStore(OperatorRoute):
    stages = param.Dict(
        default={}, doc="stage -> count (ingested, pending, analyzed, published...)"
    )
    last_runs = param.List(default=[], doc="the latest ingestion cycles' summaries")
    backfill = param.Dict(
        default={}, doc="the embedded stack's history backfill ({} where none ever ran)"
    )

    async def fetch(self, token: str) -> ApiResult:
        return await self.client.ops_pipeline(token)

    def read(self, body: dict[str, Any]) -> None:
        stages = body.get("stages")
        runs = body.get("last_runs")
        backfill = body.get("backfill")
        self.param.update(
            stages=dict(stages) if isinstance(stages, dict) else {},
            last_runs=list(runs) if isinstance(runs, list) else [],
            backfill=dict(backfill) if isinstance(backfill, dict) else {},
        )

    @property
    def backfill_running(self) -> bool:
        return self.backfill.get("status") in ("pending", "running")

    @property
    def backfill_percent(self) -> int:
        """Days done of the total, in percent."""
        total = _number(self.backfill.get("days_total"))
        return round(100 * _number(self.backfill.get("days_done")) / total) if total else 0

    @property
    def backfill_line(self) -> str:
        """One line for people: progress while it runs, the outcome once it ended."""
        state = self.backfill
        if not state:
            return ""
        done, total = _number(state.get("days_done")), _number(state.get("days_total"))
        counts = (
            f"{_number(state.get('articles_ingested')):,} articles ingested, "
            f"{_number(state.get('articles_analyzed')):,} analyzed"
        )
        status = state.get("status")
        if status == "done":
            seconds = state.get("seconds")
            took = float(seconds) if isinstance(seconds, int | float) else 0.0
            return f"history: {done} days backfilled in {took:.0f} s"
        if status in ("skipped", "failed"):
            return f"history: {done}/{total} days, {counts}; {status}: {state.get('message', '')}"
        return f"history: backfilling {done}/{total} days, {counts}"


def _number(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0
