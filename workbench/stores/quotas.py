"""Each provider's quotas in their current periods, from `GET /api/v2/ops/quotas`.

The bands (warning, critical, the reserve kept for priority calls) are the fractions the API
itself is configured with: the same settings (environment) the services read.
"""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiResult
from workbench.stores.operator import OperatorRoute


class QuotasStore(OperatorRoute):
    quotas = param.Dict(
        default={},
        doc="service -> its tightest quota's used, limit, period, resets_at, level, and "
        "`limits`: every quota (name, counts, per, used, limit, ...), tightest first",
    )
    warning_fraction = param.Number(default=0.5, bounds=(0, 1))
    critical_fraction = param.Number(default=0.8, bounds=(0, 1))
    reserve_fraction = param.Number(default=0.1, bounds=(0, 1))

    async def fetch(self, token: str) -> ApiResult:
        return await self.client.ops_quotas(token)

    def read(self, body: dict[str, Any]) -> None:
        quotas = body.get("quotas")
        self.quotas = (
            {str(k): dict(v) for k, v in quotas.items() if isinstance(v, dict)}
            if isinstance(quotas, dict)
            else {}
        )
