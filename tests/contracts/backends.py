"""The two backends every contract test runs on: the in-memory stores (marked unit) and
DynamoDB Local (marked integration)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from services.store.memory import MemoryStore

T = TypeVar("T")

# The `params` of a contract test's store fixture.
BACKENDS = [
    pytest.param("memory", marks=pytest.mark.unit),
    pytest.param("dynamodb_local", marks=pytest.mark.integration),
]


def backend_stores(
    request: pytest.FixtureRequest, build: Callable[..., T], **dynamo: Callable[[Any], Any]
) -> T:
    """`build` given one store per keyword: on the memory backend the `MemoryStore` attribute
    of that name, on DynamoDB Local the keyword's class over a fresh table."""
    if request.param == "memory":
        memory = MemoryStore.empty()
        return build(**{name: getattr(memory, name) for name in dynamo})
    table = request.getfixturevalue("fresh_table")
    return build(**{name: make(table) for name, make in dynamo.items()})
