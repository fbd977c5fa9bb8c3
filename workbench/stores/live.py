"""The header's live figures, refreshed together on a period."""

from __future__ import annotations

import asyncio
from typing import Any

import param

from workbench.stores.health import HealthStore
from workbench.stores.latency import LatencyStore
from workbench.stores.ops import OpsStore


class LiveTiles(param.Parameterized):
    health: HealthStore = param.ClassSelector(class_=HealthStore)  # type: ignore[assignment]
    latency: LatencyStore = param.ClassSelector(class_=LatencyStore)  # type: ignore[assignment]
    ops: OpsStore = param.ClassSelector(class_=OpsStore)  # type: ignore[assignment]
    refreshes = param.Integer(default=0, doc="completed refreshes")
    skipped = param.Integer(default=0, doc="periods skipped because one was still running")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._running = False

    async def refresh(self) -> None:
        # A slow API must not pile up overlapping refreshes: a period that finds the previous
        # one still waiting is skipped, and the page keeps answering meanwhile.
        if self._running:
            self.skipped += 1
            return
        self._running = True
        try:
            await asyncio.gather(self.health.refresh(), self.ops.refresh())
            self.latency.refresh()
            self.refreshes += 1
        finally:
            self._running = False
