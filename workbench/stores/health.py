"""Live health of the running system, refreshed from `GET /health`."""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiClient


class HealthStore(param.Parameterized):
    """The last `/health` answer. Views bind to these params, never to raw responses."""

    status = param.String(default="unknown", doc="healthy | degraded | unhealthy | unreachable")
    version = param.String(default="")
    environment = param.String(default="")
    checks = param.Dict(default={})
    latency_ms = param.Number(default=None, allow_None=True, doc="round trip of the last check")
    refreshed = param.Integer(default=0, doc="how many answers have been received")
    error = param.String(default="")

    def __init__(self, client: ApiClient, **params: Any) -> None:
        super().__init__(**params)
        self.client = client

    async def refresh(self) -> None:
        result = await self.client.health()
        if result.error is not None:
            self.param.update(status="unreachable", error=result.error, checks={})
            return
        body = result.body if isinstance(result.body, dict) else {}
        self.param.update(
            status=str(body.get("status", "unknown")),
            version=str(body.get("version", "")),
            environment=str(body.get("environment", "")),
            checks=dict(body.get("checks", {})),
            latency_ms=round(result.elapsed_ms, 1),
            error="",
            refreshed=self.refreshed + 1,
        )
