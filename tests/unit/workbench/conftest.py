"""Fixtures of the workbench unit tests: the in-memory API and stores wired to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import param
import pytest

from tests.unit.workbench.fake_api import FakeApi
from tests.unit.workbench.loop import run
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
def fake() -> FakeApi:
    return FakeApi()


@pytest.fixture
def client(fake: FakeApi) -> ApiClient:
    return fake.client()
