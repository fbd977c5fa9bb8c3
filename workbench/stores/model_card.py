"""The model card, from `GET /api/v2/ops/model`: the scorer's tiers, their figures on each
evaluation data set, the training data and the failure modes, as `make model` published them.

The card changes only when the model is rebuilt (and the API reads it once per process), so
once read it is kept for the page's life; until then every refresh asks again, and a card
built meanwhile appears without a reload.
"""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiResult
from workbench.stores.operator import OperatorRoute


class ModelCardStore(OperatorRoute):
    card = param.Dict(default={}, doc="the card, as the API sent it")
    dataset = param.String(default="", doc="the evaluation data set shown in detail")

    async def fetch(self, token: str) -> ApiResult:
        return await self.client.ops_model(token)

    async def refresh(self) -> None:
        if self.status == "live":
            return
        await super().refresh()

    def read(self, body: dict[str, Any]) -> None:
        datasets = list(body.get("evaluations") or {})
        chosen = self.dataset if self.dataset in datasets else self._default_dataset(body)
        self.param.update(card=dict(body), dataset=chosen)

    @staticmethod
    def _default_dataset(body: dict[str, Any]) -> str:
        """The first data set the default tier was evaluated on (else the first one)."""
        evaluations = body.get("evaluations") or {}
        tier = body.get("default_tier")
        for name, evaluation in evaluations.items():
            if isinstance(evaluation, dict) and tier in (evaluation.get("by_tier") or {}):
                return str(name)
        return str(next(iter(evaluations), ""))

    @property
    def datasets(self) -> list[str]:
        return [str(name) for name in self.card.get("evaluations") or {}]

    def default_tier_evaluation(self) -> dict[str, Any]:
        """The default tier's figures on the chosen data set ({} when it has none)."""
        evaluation = (self.card.get("evaluations") or {}).get(self.dataset) or {}
        found = (evaluation.get("by_tier") or {}).get(self.card.get("default_tier"))
        return dict(found) if isinstance(found, dict) else {}
