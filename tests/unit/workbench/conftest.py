"""Fixtures of the workbench unit tests: the real API over the in-memory store, its client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import param
import pytest

from tests.unit.workbench.loop import run
from tests.unit.workbench.memory_api import MemoryApi
from workbench.client import ApiClient


@pytest.fixture(autouse=True)
def callbacks_finish_before_the_click_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Coroutine callbacks (a button's click) run to completion at once, as they do when no
    event loop is running; with a loop left running on this thread (the browser tests'
    Playwright) they would otherwise only be scheduled on it, and never run."""

    def execute(make: Callable[[], Awaitable[Any]]) -> None:
        async def awaited() -> Any:
            return await make()

        run(awaited())

    monkeypatch.setattr(param.parameterized, "async_executor", execute)


@pytest.fixture
def api(tmp_path: Path) -> MemoryApi:
    return MemoryApi(model_card_path=tmp_path / "model-card.json")


@pytest.fixture
def client(api: MemoryApi) -> ApiClient:
    return api.client()
