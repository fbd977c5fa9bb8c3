"""Requests' timing breakdowns, from `GET /api/v2/ops/traces` and `.../traces/{id}`."""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiResult, Problem
from workbench.stores.operator import ABSENT_CREDENTIAL_NOTE, OperatorRoute


class TracesStore(OperatorRoute):
    traces = param.List(default=[], doc="recent requests, newest first (no spans)")
    selected = param.String(default="", doc="correlation ID of the request broken down")
    trace = param.Dict(default={}, doc="the selected request with its spans")
    problem = param.ClassSelector(class_=Problem, allow_None=True)
    environment = param.Dict(
        default={}, doc="the execution environment whose memory the list comes from"
    )

    async def fetch(self, token: str) -> ApiResult:
        return await self.client.ops_traces(token)

    def read(self, body: dict[str, Any]) -> None:
        traces, environment = body.get("traces"), body.get("environment")
        self.param.update(
            traces=[t for t in traces if isinstance(t, dict)] if isinstance(traces, list) else [],
            environment=dict(environment) if isinstance(environment, dict) else {},
        )

    async def refresh_showing_newest(self) -> None:
        """The list, and the newest request's breakdown until one has been shown: the section
        opens on a waterfall, not on an empty chooser."""
        await self.refresh()
        if not self.selected and self.traces:
            await self.load()

    async def load(self, correlation_id: str | None = None) -> None:
        """The breakdown of `correlation_id` (the newest request when none is chosen)."""
        chosen = (correlation_id or self.selected).strip()
        if not chosen and self.traces:
            chosen = str(self.traces[0].get("correlation_id") or "")
        token = self._operator_token()
        if token is None:
            self.problem = Problem(0, "NO_OPERATOR_TOKEN", ABSENT_CREDENTIAL_NOTE)
            return
        if not chosen:
            self.problem = Problem(0, "NO_TRACE", "no request has been traced yet")
            return
        result = await self.client.ops_trace(token, chosen)
        if result.ok and isinstance(result.body, dict):
            self.param.update(selected=chosen, trace=dict(result.body), problem=None)
        else:
            self.param.update(selected=chosen, trace={}, problem=result.problem)
