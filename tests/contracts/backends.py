"""The two backends every contract test runs on: the in-memory stores (marked unit) and
DynamoDB Local (marked integration)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from services.store.alerts import DynamoAlertRepository
from services.store.configurations import DynamoConfigurationRepository
from services.store.memory import MemoryStore
from services.store.preferences import DynamoPreferenceRepository
from services.store.users import DynamoUserRepository

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


@dataclass
class AccountStores:
    """The stores of a user's own records (the account, its configurations, alert rules and
    e-mail preferences), which the contracts of what follows an account (its alert e-mails,
    its retirement) extend with the stores of their subject."""

    users: Any
    configurations: Any
    alerts: Any
    preferences: Any


# `backend_stores`' keywords for the fields of `AccountStores`.
ACCOUNT_STORES: dict[str, Callable[[Any], Any]] = {
    "users": DynamoUserRepository,
    "configurations": DynamoConfigurationRepository,
    "alerts": DynamoAlertRepository,
    "preferences": DynamoPreferenceRepository,
}
