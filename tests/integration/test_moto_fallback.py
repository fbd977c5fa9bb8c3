"""Without Java the stack still starts, on moto's server, and says nothing will persist."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from services.local.dynamodb_local import MotoDynamo, dynamodb_server
from services.settings import Settings
from services.store.table import dynamodb_client, ensure_table

pytestmark = pytest.mark.integration


def test_missing_java_falls_back_to_moto_with_a_warning(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        server = dynamodb_server(root, port=0, db_path=root / ".unused", java="no-such-java-17")
    assert isinstance(server, MotoDynamo)
    assert "Java was not found" in caplog.text and "WILL NOT PERSIST" in caplog.text
    server.start()
    try:
        settings = Settings(dynamodb_endpoint=server.endpoint, table_name="fallback-table")
        assert ensure_table(dynamodb_client(settings), settings.table_name) is True
        assert server.persistent is False
    finally:
        server.stop()
