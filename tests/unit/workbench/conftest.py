"""Fixtures of the workbench unit tests: the in-memory API and stores wired to it."""

from __future__ import annotations

import pytest

from tests.unit.workbench.fake_api import FakeApi
from workbench.client import ApiClient


@pytest.fixture
def fake() -> FakeApi:
    return FakeApi()


@pytest.fixture
def client(fake: FakeApi) -> ApiClient:
    return fake.client()
