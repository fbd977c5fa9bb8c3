"""Connecting to the single table and creating it when it is missing."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from services.store.schema import (
    GLOBAL_INDEXES,
    PARTITION_KEY,
    SORT_KEY,
    TTL_ATTRIBUTE,
    create_table_request,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import Table

    from services.settings import Settings

# Short timeouts and few retries: a local emulator that is down should fail fast, and in
# Lambda the function's own timeout bounds the total anyway.
_BOTO_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 3, "mode": "standard"},
    max_pool_connections=32,
    # DynamoDB validates every request itself; botocore's client-side pass over large
    # transactions costs a fifth of the local pipeline's throughput.
    parameter_validation=False,
)


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class SchemaMismatchError(RuntimeError):
    """The table exists but its keys or indexes differ from `services.store.schema`."""


def _client_kwargs(settings: Settings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"region_name": settings.aws_region, "config": _BOTO_CONFIG}
    if settings.dynamodb_endpoint:
        kwargs["endpoint_url"] = settings.dynamodb_endpoint
        if urlsplit(settings.dynamodb_endpoint).hostname in _LOOPBACK:
            # DynamoDB Local accepts any credentials; sparing the user from inventing some.
            kwargs["aws_access_key_id"] = "local"
            kwargs["aws_secret_access_key"] = "local"  # noqa: S105
    return kwargs


def dynamodb_client(settings: Settings) -> DynamoDBClient:
    """A low-level client for the configured endpoint (DynamoDB Local or AWS)."""
    return boto3.session.Session().client("dynamodb", **_client_kwargs(settings))


def dynamodb_table(settings: Settings) -> Table:
    """The table resource every repository works on."""
    resource = boto3.session.Session().resource("dynamodb", **_client_kwargs(settings))
    return resource.Table(settings.table_name)


def ensure_table(client: DynamoDBClient, table_name: str, *, timeout_s: float = 30.0) -> bool:
    """Create the table (and enable TTL) unless it exists. Returns True when it was created.

    Idempotent: an existing table is checked against the schema instead of recreated, so a
    persistent local store keeps its data across restarts.
    """
    created = False
    try:
        description = client.describe_table(TableName=table_name)["Table"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        try:
            client.create_table(**create_table_request(table_name))
            created = True
        except ClientError as create_error:
            # Another process created it between our describe and create.
            if create_error.response["Error"]["Code"] != "ResourceInUseException":
                raise
        description = _wait_active(client, table_name, timeout_s)
    _check_schema(description, table_name)
    _ensure_ttl(client, table_name)
    return created


def _wait_active(client: DynamoDBClient, table_name: str, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        description = client.describe_table(TableName=table_name)["Table"]
        if description.get("TableStatus") == "ACTIVE":
            return description
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {table_name} did not become ACTIVE in {timeout_s} s")
        time.sleep(0.1)


def _check_schema(description: Any, table_name: str) -> None:
    keys = {k["KeyType"]: k["AttributeName"] for k in description["KeySchema"]}
    problems = []
    if keys != {"HASH": PARTITION_KEY, "RANGE": SORT_KEY}:
        problems.append(f"primary key is {keys}, expected {PARTITION_KEY}/{SORT_KEY}")
    present = {
        index["IndexName"]: {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]}
        for index in description.get("GlobalSecondaryIndexes", [])
    }
    for index in GLOBAL_INDEXES:
        expected = {"HASH": index.partition_key, "RANGE": index.sort_key}
        if present.get(index.name) != expected:
            problems.append(f"index {index.name} is {present.get(index.name)}, expected {expected}")
    if problems:
        raise SchemaMismatchError(
            f"table {table_name} does not match the schema: " + "; ".join(problems)
        )


def _ensure_ttl(client: DynamoDBClient, table_name: str) -> None:
    status = client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if status.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )
