"""Fault injection: the scenarios of `GET /api/v2/ops/chaos`, switched with `POST`, and an
ingestion cycle run on demand (`POST /api/v2/ops/ingestion/run`) so a fault meets real calls
without waiting for the schedule."""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiResult, Problem
from workbench.stores.calls import call_view
from workbench.stores.operator import ABSENT_CREDENTIAL_NOTE, OperatorRoute


class ChaosStore(OperatorRoute):
    scenarios = param.Dict(default={}, doc="scenario -> description, enabled, remaining_s, ...")
    duration_s = param.Number(default=None, allow_None=True, bounds=(0, 3600), doc="optional")
    last_call = param.Dict(default={}, doc="the last switch or ingestion call, as shown")
    problem = param.ClassSelector(class_=Problem, allow_None=True)
    busy = param.Boolean(default=False)
    ingestion_runs = param.Integer(default=0, doc="cycles run from this page")
    last_summary = param.Dict(default={}, doc="the last cycle's summary")

    async def fetch(self, token: str) -> ApiResult:
        return await self.client.ops_chaos(token)

    def read(self, body: dict[str, Any]) -> None:
        scenarios = body.get("scenarios")
        self.scenarios = (
            {str(k): dict(v) for k, v in scenarios.items() if isinstance(v, dict)}
            if isinstance(scenarios, dict)
            else {}
        )

    async def _operator_call(self, make: Any) -> ApiResult | None:
        token = self._operator_token()
        if token is None:
            self.problem = Problem(0, "NO_OPERATOR_TOKEN", ABSENT_CREDENTIAL_NOTE)
            return None
        self.busy = True
        try:
            result: ApiResult = await make(token)
        finally:
            self.busy = False
        self.param.update(last_call=call_view(result), problem=result.problem)
        return result

    async def switch(self, scenario: str, enabled: bool) -> None:
        """Switch `scenario` on (for `duration_s`, when set) or off; then read every scenario."""
        result = await self._operator_call(
            lambda token: self.client.ops_switch_chaos(
                token, scenario, enabled, self.duration_s if enabled else None
            )
        )
        if result is not None and result.ok and isinstance(result.body, dict):
            self.scenarios = {**self.scenarios, scenario: dict(result.body)}
        await self.refresh()

    async def run_ingestion(self) -> None:
        result = await self._operator_call(self.client.ops_run_ingestion)
        if result is not None and result.ok and isinstance(result.body, dict):
            self.param.update(ingestion_runs=self.ingestion_runs + 1, last_summary=result.body)
