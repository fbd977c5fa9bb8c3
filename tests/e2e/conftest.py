"""Fixtures the API end-to-end modules share; a module that needs another stack (the news
pipeline, other settings) defines its own `stack`, and `client` follows it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.local.stack import LocalStack
from tests.e2e.api_support import api_stack, operator_headers


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[LocalStack]:
    """The embedded stack without the news pipeline, one per module."""
    with api_stack(root, tmp_path_factory.mktemp("state")) as running:
        yield running


@pytest.fixture
def client(stack: LocalStack) -> Iterator[httpx.Client]:
    assert stack.api is not None
    with httpx.Client(base_url=stack.api.url, timeout=60) as http:
        yield http


@pytest.fixture
def operator(stack: LocalStack) -> dict[str, str]:
    """The ops routes' bearer, of whichever stack the module uses."""
    return operator_headers(stack)
