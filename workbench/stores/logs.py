"""The live log tail, from `GET /api/v2/ops/logs`, with its filters as params."""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiResult
from workbench.stores.operator import OperatorRoute

LEVELS = ["", "DEBUG", "INFO", "WARNING", "ERROR"]


class LogsStore(OperatorRoute):
    level: str = param.Selector(  # type: ignore[assignment]
        default="", objects=LEVELS, doc="minimum level; empty for all"
    )
    service = param.String(default="", doc="the function that logged; empty for all")
    correlation_id = param.String(default="")
    limit = param.Integer(default=50, bounds=(1, 500))
    live = param.Boolean(default=True, doc="follow the tail on every refresh")
    records = param.List(default=[], doc="newest first")
    services = param.List(default=[], doc="services seen in the buffer")
    buffered = param.Integer(default=0)
    environment = param.Dict(
        default={}, doc="the execution environment whose memory the records come from"
    )

    async def fetch(self, token: str) -> ApiResult:
        filters = {
            "level": self.level,
            "service": self.service.strip(),
            "correlation_id": self.correlation_id.strip(),
            "limit": str(self.limit),
        }
        return await self.client.ops_logs(token, filters)

    def read(self, body: dict[str, Any]) -> None:
        records, services = body.get("records"), body.get("services")
        buffered, environment = body.get("buffered"), body.get("environment")
        self.param.update(
            environment=dict(environment) if isinstance(environment, dict) else {},
            records=[r for r in records if isinstance(r, dict)]
            if isinstance(records, list)
            else [],
            services=[str(s) for s in services] if isinstance(services, list) else [],
            buffered=int(buffered) if isinstance(buffered, int) else 0,
        )

    async def follow(self) -> None:
        """The periodic refresh: only while the tail is live."""
        if self.live:
            await self.refresh()
