"""The pipeline's counts per stage, from `GET /api/v2/ops/pipeline`."""

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

    async def fetch(self, token: str) -> ApiResult:
        return await self.client.ops_pipeline(token)

    def read(self, body: dict[str, Any]) -> None:
        stages = body.get("stages")
        runs = body.get("last_runs")
        self.param.update(
            stages=dict(stages) if isinstance(stages, dict) else {},
            last_runs=list(runs) if isinstance(runs, list) else [],
        )
