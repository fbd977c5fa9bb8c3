"""Live accuracy, from `GET /api/v2/ops/accuracy` (the local stack only): the labels analysis
stored for the latest analyzed articles against the known labels of their headlines. While
nothing is measured, an ingestion cycle can be run from here (`POST /api/v2/ops/ingestion/run`)
so there is news to measure."""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiResult, Problem
from workbench.stores.calls import call_view
from workbench.stores.operator import ABSENT_CREDENTIAL_NOTE, OperatorRoute

DEFAULT_LIMIT = 500


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class LiveAccuracyStore(OperatorRoute):
    limit = param.Integer(default=DEFAULT_LIMIT, bounds=(1, 2000), doc="latest articles read")
    n = param.Integer(default=0, doc="articles whose headline has a known label")
    articles_read = param.Integer(default=0)
    accuracy = param.Number(default=None, allow_None=True)
    macro_f1 = param.Number(default=None, allow_None=True)
    labels = param.List(default=[], doc="the confusion matrix's order")
    confusion = param.List(default=[], doc="rows: known label, columns: stored label")
    per_class = param.Dict(default={}, doc="label -> precision, recall, f1, support")
    model_versions = param.Dict(default={}, doc="version -> articles it scored")
    analyzed_from = param.String(default="")
    analyzed_to = param.String(default="")
    empty_note = param.String(default="", doc="the API's words while n is 0")
    busy = param.Boolean(default=False)
    problem = param.ClassSelector(class_=Problem, allow_None=True)
    last_call = param.Dict(default={}, doc="the last ingestion run from here, as shown")
    ingestion_runs = param.Integer(default=0, doc="cycles run from this page")

    async def fetch(self, token: str) -> ApiResult:
        return await self.client.ops_accuracy(token, self.limit)

    def read(self, body: dict[str, Any]) -> None:
        n = body.get("n")
        per_class = body.get("per_class") or {}
        self.param.update(
            n=n if isinstance(n, int) else 0,
            articles_read=int(body.get("articles_read") or 0),
            accuracy=_number(body.get("accuracy")),
            macro_f1=_number(body.get("macro_f1")),
            labels=[str(label) for label in body.get("labels") or []],
            confusion=[list(row) for row in body.get("confusion") or [] if isinstance(row, list)],
            per_class={str(k): dict(v) for k, v in per_class.items() if isinstance(v, dict)},
            model_versions=dict(body.get("model_versions") or {}),
            analyzed_from=str(body.get("analyzed_from") or ""),
            analyzed_to=str(body.get("analyzed_to") or ""),
            empty_note=str(body.get("note") or ""),
        )

    async def run_ingestion(self) -> None:
        """One ingestion cycle now, then the figures again (analysis may still be running)."""
        token = self._operator_token()
        if token is None:
            self.problem = Problem(0, "NO_OPERATOR_TOKEN", ABSENT_CREDENTIAL_NOTE)
            return
        self.busy = True
        try:
            result = await self.client.ops_run_ingestion(token)
        finally:
            self.busy = False
        self.param.update(
            last_call=call_view(result),
            problem=result.problem,
            ingestion_runs=self.ingestion_runs + (1 if result.ok else 0),
        )
        await self.refresh()
