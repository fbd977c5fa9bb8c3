"""Refreshing the stores of the section in view: a section out of view asks the API nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import param

Refresh = Callable[[], Awaitable[None]]


class SectionRefresh(param.Parameterized):
    active = param.String(default="", doc="the section in view")
    refreshes = param.Integer(default=0)
    skipped = param.Integer(default=0, doc="periods skipped because one was still running")

    def __init__(self, sections: Mapping[str, Sequence[Refresh]], **params: Any) -> None:
        super().__init__(**params)
        self.sections = dict(sections)
        self._running = False

    async def refresh(self) -> None:
        if self._running:
            self.skipped += 1
            return
        self._running = True
        try:
            await asyncio.gather(*(make() for make in self.sections.get(self.active, ())))
            self.refreshes += 1
        finally:
            self._running = False
