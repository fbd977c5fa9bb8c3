"""Fixtures the integration modules share: a provider emulator on a free port, over the
session's news world (see the root conftest), stopped after the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.local.emulators.finnhub import FinnhubEmulator
from services.local.emulators.world import NewsWorld


@pytest.fixture
def finnhub(news_world: NewsWorld) -> Iterator[FinnhubEmulator]:
    emulator = FinnhubEmulator(news_world, "f-key").start()
    yield emulator
    emulator.stop()
