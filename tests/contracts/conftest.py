"""The repositories behind one fixture: the in-memory fakes (unit) and DynamoDB Local.

The same contract tests run against both, so the fakes that unit tests of domain logic
rely on behave like the real table. (moto is not used here: its transactions reject
conditional puts, which DynamoDB and DynamoDB Local accept.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from services.store import (
    DynamoArticleRepository,
    DynamoConfigurationRepository,
    DynamoSessionRepository,
    DynamoTokenRepository,
    DynamoUserRepository,
)
from services.store.memory import (
    InMemoryArticleRepository,
    InMemoryConfigurationRepository,
    InMemorySessionRepository,
    InMemoryTokenRepository,
    InMemoryUserRepository,
)
from tests.contracts.backends import BACKENDS


@dataclass
class Repos:
    users: Any
    sessions: Any
    tokens: Any
    configs: Any
    articles: Any


@pytest.fixture(params=BACKENDS)
def repos(request: pytest.FixtureRequest) -> Repos:
    if request.param == "memory":
        users = InMemoryUserRepository()
        return Repos(
            users,
            InMemorySessionRepository(),
            InMemoryTokenRepository(),
            InMemoryConfigurationRepository(users),
            InMemoryArticleRepository(),
        )
    table = request.getfixturevalue("fresh_table")
    return Repos(
        DynamoUserRepository(table),
        DynamoSessionRepository(table),
        DynamoTokenRepository(table),
        DynamoConfigurationRepository(table),
        DynamoArticleRepository(table),
    )
