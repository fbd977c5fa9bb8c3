"""The one schema definition and `ensure_table` (moto for these small table tests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from services.store import keys
from services.store.schema import GLOBAL_INDEXES, create_table_request, schema_summary
from services.store.table import SchemaMismatchError, ensure_table

pytestmark = pytest.mark.unit


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


def test_ensure_table_creates_keys_indexes_and_ttl_once(client: Any) -> None:
    assert ensure_table(client, "single-table") is True
    assert ensure_table(client, "single-table") is False  # idempotent
    table = client.describe_table(TableName="single-table")["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {
        "by_sentiment",
        "by_status",
        "by_tag",
    }
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = client.describe_time_to_live(TableName="single-table")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"


def test_ensure_table_refuses_a_table_with_another_schema(client: Any) -> None:
    request = create_table_request("drifted")
    request["GlobalSecondaryIndexes"] = request["GlobalSecondaryIndexes"][:2]
    request["AttributeDefinitions"] = [
        a for a in request["AttributeDefinitions"] if a["AttributeName"] != "tag"
    ]
    client.create_table(**request)
    with pytest.raises(SchemaMismatchError, match="by_tag"):
        ensure_table(client, "drifted")


def test_schema_summary_describes_every_index() -> None:
    summary = schema_summary()
    assert summary["hash_key"] == "PK" and summary["range_key"] == "SK"
    assert summary["ttl_attribute"] == "expires_at"
    assert set(summary["global_secondary_indexes"]) == {i.name for i in GLOBAL_INDEXES}
    assert summary["global_secondary_indexes"]["by_tag"] == {
        "hash_key": "tag",
        "range_key": "timestamp",
    }


@pytest.mark.parametrize(
    ("key", "entity"),
    [
        (keys.user_profile("u"), "user"),
        (keys.user_config("u", "c"), "config"),
        (keys.user_session("u", "s"), "session"),
        (keys.config_alert("c", "a"), "alert"),
        (keys.token("h"), "token"),
        (keys.article("k"), "article"),
        (keys.article_tag("k", "AAPL"), "article_tag"),
        (keys.circuit("tiingo"), "circuit"),
        (keys.quota("sendgrid", "2026-11-24"), "quota"),
        (keys.quota("tiingo:requests_per_hour", "2026-11-24T12"), "quota"),
        (keys.quota_symbols("tiingo:symbols_per_month", "2026-11"), "quota"),
        (keys.outbox_email("e"), "outbox"),
    ],
)
def test_keys_follow_the_seed_layout_and_name_their_entity(
    key: dict[str, str], entity: str
) -> None:
    assert keys.entity_of(key["PK"], key["SK"]) == entity


def test_user_and_config_keys_match_the_seed() -> None:
    assert keys.user_profile("42") == {"PK": "USER#42", "SK": "PROFILE"}
    assert keys.user_config("42", "c9") == {"PK": "USER#42", "SK": "CONFIG#c9"}
    assert keys.config_alert("c9", "a1") == {"PK": "CONFIG#c9", "SK": "ALERT#a1"}
    assert keys.token("abc") == {"PK": "TOKEN#abc", "SK": "TOKEN"}
