"""Fixtures shared by every suite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from services.local.dynamodb_local import DynamoDBLocal
from services.local.emulators.world import NewsWorld
from services.local.paths import project_root
from services.settings import Settings
from services.store.table import dynamodb_client, dynamodb_table, ensure_table
from tests.clock import Clock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@pytest.fixture(scope="session")
def root() -> Path:
    return project_root()


@pytest.fixture(scope="session")
def dynamodb_local(root: Path) -> Iterator[DynamoDBLocal]:
    """One DynamoDB Local (in memory) per test session, shared by every test that needs it."""
    server = DynamoDBLocal(root=root, port=0, db_path=None).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_table(dynamodb_local: DynamoDBLocal) -> Table:
    """A new, uniquely named table on the session's DynamoDB Local, created by ensure_table."""
    settings = Settings(
        dynamodb_endpoint=dynamodb_local.endpoint, table_name=f"test-{uuid.uuid4().hex[:10]}"
    )
    ensure_table(dynamodb_client(settings), settings.table_name)
    return dynamodb_table(settings)


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves, at `tests.clock.START`; a module whose tests need another start
    (or a clock of another kind) overrides it."""
    return Clock()


@pytest.fixture
def news_world(clock: Clock) -> NewsWorld:
    """The emulated market and its news, as the provider emulators serve them, on the test's
    clock: one seed for the emulators' unit and integration tests, whose expectations were
    written against it."""
    return NewsWorld(seed=11, clock=clock)
