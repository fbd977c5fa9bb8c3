"""The parts of the apply to moto that need no provider (tests/infrastructure/moto_apply.py):
the override reaches every service the modules use, what is left out and why still holds
for the installed moto, and the reading of the plan after the apply, on small hand-made plan
documents shaped like `terraform show -json` output."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import hcl2
import moto.backend_index
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.backup.responses import BackupResponse

from tests.infrastructure.hcl import TERRAFORM, load, named_blocks, tfvars, unquote
from tests.infrastructure.moto_apply import (
    DUMMY_ACCESS_KEY,
    DUMMY_SECRET_KEY,
    KNOWN_GAPS,
    LEFT_OUT_UNDER_MOTO,
    KnownGap,
    PlanChange,
    UnknownResourceTypeError,
    endpoint_service,
    endpoint_services,
    hcl_value,
    managed_resources,
    moto_backend,
    moto_variables,
    render_provider_override,
    render_tfvars,
    teardown_variables,
    terraform_types,
    unexplained_changes,
    unobserved_gaps,
)

# Pure logic and in-process moto: part of `make unit`, and of `make infrastructure` too.
pytestmark = [pytest.mark.unit, pytest.mark.infrastructure]

ENDPOINT = "http://127.0.0.1:5123"
ANALYSIS = 'module.lambda.aws_lambda_function.this["analysis"]'
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:sentiment-deep-dive-dev-analysis-dlq"


def parsed_override(services: list[str]) -> dict[str, Any]:
    parsed: dict[str, Any] = unquote(hcl2.loads(render_provider_override(ENDPOINT, services)))
    (provider,) = parsed["provider"]
    body: dict[str, Any] = provider["aws"]
    return body


# --- the override and the variables ---------------------------------------------------------


def test_every_type_of_the_modules_has_an_endpoint_and_the_override_sets_them_all(
    root: Path,
) -> None:
    services = endpoint_services(terraform_types(root / TERRAFORM))
    assert services == [
        "amplify",
        "backup",
        "cognitoidp",
        "dynamodb",
        "events",
        "iam",
        "lambda",
        "logs",
        "s3",
        "secretsmanager",
        "sns",
        "sqs",
        "sts",
    ]
    (endpoints,) = parsed_override(services)["endpoints"]
    assert endpoints == dict.fromkeys(services, ENDPOINT)


def test_the_override_gives_dummy_keys_and_skips_every_call_outside_the_endpoints() -> None:
    body = parsed_override(["s3"])
    assert (body["access_key"], body["secret_key"]) == (DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY)
    for setting in (
        "skip_credentials_validation",
        "skip_requesting_account_id",
        "skip_metadata_api_check",
        "s3_use_path_style",
    ):
        assert body[setting] is True, setting


def test_the_types_read_include_data_sources_and_every_module(root: Path) -> None:
    types = terraform_types(root / TERRAFORM)
    assert {"aws_caller_identity", "aws_iam_policy_document", "aws_amplify_app"} <= types
    assert "aws_lambda_function_url" in types and "aws_backup_selection" in types


def test_the_longest_prefix_decides_and_an_unknown_type_is_refused() -> None:
    assert endpoint_service("aws_iam_role") == "iam"
    assert endpoint_service("aws_iam_policy_document") is None
    assert endpoint_service("aws_cloudwatch_event_target") == "events"
    assert endpoint_service("aws_cloudwatch_log_group") == "logs"
    with pytest.raises(UnknownResourceTypeError, match="ENDPOINT_BY_TYPE_PREFIX"):
        endpoint_service("aws_kms_key")


def test_a_service_moto_does_not_serve_has_all_its_resources_left_out(root: Path) -> None:
    # A service missing from moto would fail the apply: its resources must be switched off.
    served = {name for name, _ in moto.backend_index.backend_url_patterns}
    types = terraform_types(root / TERRAFORM)
    left_out = {t for entry in LEFT_OUT_UNDER_MOTO for t in entry.resource_types}
    for service in endpoint_services(types):
        if moto_backend(service) not in served:
            used = {t for t in types if endpoint_service(t) == service}
            assert used <= left_out, f"{service}: {sorted(used - left_out)} not left out"


def test_what_is_left_out_names_bool_variables_of_every_environment(root: Path) -> None:
    types = terraform_types(root / TERRAFORM)
    variables = named_blocks(load(root / TERRAFORM / "envs" / "dev" / "variables.tf"), "variable")
    for entry in LEFT_OUT_UNDER_MOTO:
        assert variables[entry.variable]["type"] == "bool", entry.variable
        assert set(entry.resource_types) <= types
        assert len(entry.reason) > 30


def test_the_variables_file_carries_the_artifacts_and_the_switches(tmp_path: Path) -> None:
    values = moto_variables(tmp_path / "lambda.zip", tmp_path / "lambda-analysis.zip")
    parsed = unquote(hcl2.loads(render_tfvars(values)))
    assert parsed["package_path"] == str(tmp_path / "lambda.zip")
    assert parsed["analysis_package_path"] == str(tmp_path / "lambda-analysis.zip")
    assert parsed["google_client_secret"]
    assert {e.variable: parsed[e.variable] for e in LEFT_OUT_UNDER_MOTO} == {
        "amplify_hosting": False,
        "daily_backups": False,
    }


def test_strings_are_escaped_and_templates_stay_literal() -> None:
    assert hcl_value('a"b\\c') == '"a\\"b\\\\c"'
    assert hcl_value("${var.x} %{if}") == '"$${var.x} %%{if}"'
    assert (hcl_value(True), hcl_value(False), hcl_value(7)) == ("true", "false", "7")


def test_only_protected_environments_are_unprotected_before_the_destroy(root: Path) -> None:
    assert teardown_variables(tfvars(root, "dev")) == {}
    for env in ("preprod", "prod"):
        assert teardown_variables(tfvars(root, env)) == {"deletion_protection": False}


# --- the installed moto still has the gaps the tables describe ------------------------------
# When one of these fails after a moto upgrade, the entry it supports can go.


def test_moto_serves_no_amplify() -> None:
    assert "amplify" not in {name for name, _ in moto.backend_index.backend_url_patterns}


def test_moto_backup_has_no_backup_selections() -> None:
    assert not hasattr(BackupResponse, "create_backup_selection")


@mock_aws
def test_moto_lambda_does_not_return_the_dead_letter_config() -> None:
    role = boto3.client("iam", region_name="us-east-1").create_role(
        RoleName="probe", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("probe.py", "def handler(event, context):\n    return None\n")
    client = boto3.client("lambda", region_name="us-east-1")
    client.create_function(
        FunctionName="probe",
        Role=role,
        Handler="probe.handler",
        Runtime="python3.12",
        Code={"ZipFile": archive.getvalue()},
        DeadLetterConfig={"TargetArn": DLQ_ARN},
    )
    assert "DeadLetterConfig" not in client.get_function(FunctionName="probe")["Configuration"]


@mock_aws
def test_moto_refuses_to_delete_a_protected_table() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="probe",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        DeletionProtectionEnabled=True,
    )
    with pytest.raises(ClientError, match="DeletionProtectionEnabled"):
        client.delete_table(TableName="probe")


# --- the plan after the apply ---------------------------------------------------------------


def resource_change(
    address: str,
    actions: list[str],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    after_unknown: dict[str, Any] | None = None,
    mode: str = "managed",
) -> dict[str, Any]:
    return {
        "address": address,
        "mode": mode,
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": after_unknown or {},
        },
    }


def analysis_function(dead_letter: bool, memory: int = 384) -> dict[str, Any]:
    return {
        "function_name": "sentiment-deep-dive-dev-analysis",
        "memory_size": memory,
        "dead_letter_config": [{"target_arn": DLQ_ARN}] if dead_letter else [],
    }


def plan(*changes: dict[str, Any]) -> dict[str, Any]:
    return {"format_version": "1.2", "resource_changes": list(changes)}


def dead_letter_reapplied(memory_after: int = 384) -> dict[str, Any]:
    """moto's refresh lost the queue; the plan sets it again (and maybe more)."""
    return resource_change(
        ANALYSIS,
        ["update"],
        analysis_function(dead_letter=False),
        analysis_function(dead_letter=True, memory=memory_after),
    )


def unchanged(address: str) -> dict[str, Any]:
    return resource_change(address, ["no-op"], {"name": "x"}, {"name": "x"})


def test_the_dead_letter_config_of_analysis_alone_is_explained() -> None:
    document = plan(unchanged("module.sns.aws_sqs_queue.dead_letters"), dead_letter_reapplied())
    assert unexplained_changes(document) == []
    assert unobserved_gaps(document) == []
    assert managed_resources(document) == 2


def test_another_attribute_changed_beside_the_gap_is_reported_alone() -> None:
    document = plan(dead_letter_reapplied(memory_after=512))
    assert unexplained_changes(document) == [PlanChange(ANALYSIS, ("update",), ("memory_size",))]


def test_the_same_attribute_on_another_function_is_not_explained() -> None:
    ingestion = ANALYSIS.replace("analysis", "ingestion")
    change = dead_letter_reapplied()
    change["address"] = ingestion
    assert unexplained_changes(plan(change)) == [
        PlanChange(ingestion, ("update",), ("dead_letter_config",))
    ]


@pytest.mark.parametrize(
    "actions", [["create"], ["delete"], ["delete", "create"], ["create", "delete"]]
)
def test_creates_deletes_and_replacements_are_never_explained(actions: list[str]) -> None:
    before = None if actions == ["create"] else analysis_function(dead_letter=False)
    after = None if actions == ["delete"] else analysis_function(dead_letter=True)
    (change,) = unexplained_changes(plan(resource_change(ANALYSIS, actions, before, after)))
    assert change.actions == tuple(actions) and change.attributes == ()
    assert str(change).startswith(f"{ANALYSIS}: {'+'.join(actions)}")


def test_no_ops_and_data_reads_are_not_changes_and_an_unseen_gap_is_reported() -> None:
    read = resource_change(
        "module.iam.data.aws_caller_identity.current", ["read"], None, {}, mode="data"
    )
    document = plan(unchanged("module.dynamodb.aws_dynamodb_table.this"), read)
    assert unexplained_changes(document) == []
    assert unobserved_gaps(document) == list(KNOWN_GAPS)
    assert managed_resources(document) == 1
    assert unexplained_changes({"format_version": "1.2"}) == []


def test_a_value_becoming_unknown_is_a_change_and_known_nesting_is_not() -> None:
    address = "module.lambda.aws_lambda_function.dashboard"
    state = {"environment": [{"variables": {"A": "1"}}], "version": "1"}
    unknown = resource_change(
        address,
        ["update"],
        state,
        {"environment": [{"variables": {"A": "1"}}]},
        after_unknown={"environment": [{"variables": {}}], "version": True},
    )
    assert unexplained_changes(plan(unknown)) == [PlanChange(address, ("update",), ("version",))]
    nested = resource_change(
        address, ["update"], state, dict(state), after_unknown={"environment": [{"x": [True]}]}
    )
    assert unexplained_changes(plan(nested)) == [PlanChange(address, ("update",), ("environment",))]


def test_an_update_that_shows_no_difference_is_reported() -> None:
    same = analysis_function(dead_letter=True)
    assert unexplained_changes(plan(resource_change(ANALYSIS, ["update"], same, same))) == [
        PlanChange(ANALYSIS, ("update",), ())
    ]


def test_a_gap_address_pattern_takes_stars_and_keeps_brackets_literal() -> None:
    gap = KnownGap('module.lambda.aws_lambda_function.this["*"]', "dead_letter_config", "why")
    assert gap.covers(ANALYSIS, "dead_letter_config")
    assert not gap.covers(ANALYSIS, "memory_size")
    assert not gap.covers("module.lambda.aws_lambda_function.this[0]", "dead_letter_config")
    exact = KnownGap(ANALYSIS, "dead_letter_config", "why")
    assert not exact.covers(ANALYSIS + "x", "dead_letter_config")


def test_every_known_gap_says_why() -> None:
    for gap in KNOWN_GAPS:
        assert len(gap.reason) > 40 and gap.attribute and gap.address
