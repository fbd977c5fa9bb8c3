"""Fixtures the unit suites share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from services.store.schema import create_table_request


@pytest.fixture
def moto_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The service's table, as `services/store/schema.py` declares it, in moto's memory."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name="us-east-1")
        resource.meta.client.create_table(**create_table_request("unit"))
        yield resource.Table("unit")
