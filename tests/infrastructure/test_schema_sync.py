"""The table in Terraform is the table of services/store/schema.py, the one definition in code."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from services.store.schema import create_table_request, schema_summary
from tests.infrastructure.hcl import TERRAFORM, blocks, load

pytestmark = pytest.mark.infrastructure


def terraform_table(root: Path) -> dict[str, Any]:
    parsed = load(root / TERRAFORM / "modules" / "dynamodb" / "main.tf")
    table: dict[str, Any] = blocks(parsed, "resource")["aws_dynamodb_table"]["this"]
    return table


def summary_of(table: dict[str, Any]) -> dict[str, Any]:
    """The Terraform table in the shape of `schema_summary()`."""
    (ttl,) = table["ttl"]
    return {
        "hash_key": table["hash_key"],
        "range_key": table["range_key"],
        "ttl_attribute": ttl["attribute_name"] if ttl["enabled"] else None,
        "attributes": {a["name"]: a["type"] for a in table["attribute"]},
        "global_secondary_indexes": {
            index["name"]: {"hash_key": index["hash_key"], "range_key": index["range_key"]}
            for index in table["global_secondary_index"]
        },
    }


def test_terraform_table_matches_the_schema_in_code(root: Path) -> None:
    # Given the table resource of the dynamodb module, When it is summarised,
    # Then keys, attributes, the three GSIs and the TTL attribute equal schema.py's.
    assert summary_of(terraform_table(root)) == schema_summary()


def test_terraform_table_billing_and_projections_match_create_table_request(root: Path) -> None:
    table = terraform_table(root)
    request = create_table_request("any")
    assert table["billing_mode"] == request["BillingMode"] == "PAY_PER_REQUEST"
    projections = {
        index["IndexName"]: index["Projection"]["ProjectionType"]
        for index in request["GlobalSecondaryIndexes"]
    }
    assert {i["name"]: i["projection_type"] for i in table["global_secondary_index"]} == (
        projections
    )
    # Every attribute Terraform declares is a key of the table or of an index (DynamoDB
    # refuses unused attribute definitions), and each is a string.
    assert len(table["attribute"]) == len(request["AttributeDefinitions"])


@pytest.mark.parametrize(
    "drift",
    ["rename_index", "drop_attribute", "change_ttl", "swap_index_keys"],
)
def test_schema_comparison_catches_each_kind_of_drift(root: Path, drift: str) -> None:
    # Given a copy of the Terraform table with one change, Then the summaries differ.
    table = copy.deepcopy(terraform_table(root))
    if drift == "rename_index":
        table["global_secondary_index"][0]["name"] = "by_mood"
    elif drift == "drop_attribute":
        table["attribute"] = [a for a in table["attribute"] if a["name"] != "tag"]
    elif drift == "change_ttl":
        table["ttl"][0]["attribute_name"] = "ttl"
    else:
        index = table["global_secondary_index"][1]
        index["hash_key"], index["range_key"] = index["range_key"], index["hash_key"]
    assert summary_of(table) != schema_summary()
