"""Items per entity and per GSI of the single table, from `GET /api/v2/ops/table`."""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiResult
from workbench.stores.operator import OperatorRoute


class TableStore(OperatorRoute):
    items = param.Integer(default=None, allow_None=True)
    entities = param.Dict(default={}, doc="entity -> items")
    indexes = param.Dict(default={}, doc="GSI -> items, partition_key, top_values")

    async def fetch(self, token: str) -> ApiResult:
        return await self.client.ops_table(token)

    def read(self, body: dict[str, Any]) -> None:
        items = body.get("items")
        entities, indexes = body.get("entities"), body.get("indexes")
        self.param.update(
            items=int(items) if isinstance(items, int) else None,
            entities=dict(entities) if isinstance(entities, dict) else {},
            indexes=dict(indexes) if isinstance(indexes, dict) else {},
        )
