"""Average and p99 latency of the workbench's own API calls (see `workbench.latency`)."""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiClient


class LatencyStore(param.Parameterized):
    count = param.Integer(default=0, doc="calls in the window")
    window = param.Integer(default=0, doc="how many calls the window keeps")
    mean_ms = param.Number(default=None, allow_None=True)
    p99_ms = param.Number(default=None, allow_None=True)
    slowest = param.String(default="", doc="the slowest call in the window")

    def __init__(self, client: ApiClient, **params: Any) -> None:
        super().__init__(**params)
        self.client = client

    def refresh(self) -> None:
        summary = self.client.latency.summary()
        self.param.update(
            count=summary.count,
            window=summary.window,
            mean_ms=None if summary.mean_ms is None else round(summary.mean_ms, 1),
            p99_ms=None if summary.p99_ms is None else round(summary.p99_ms, 1),
            slowest=summary.slowest or "",
        )
