"""The Terraform's shape: every module complete and documented, the environments alike except
for their parity row, least-privilege roles, and the functions and schedules of the design."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.infrastructure.hcl import (
    ENVS,
    MODULE_FILES,
    MODULES,
    TERRAFORM,
    blocks,
    load,
    locals_of,
    named_blocks,
    tfvars,
)

pytestmark = pytest.mark.infrastructure

# The seed's "Environment Parity" table: DynamoDB everywhere; point-in-time recovery, daily
# backups and Amplify hosting off in dev, on in preprod and prod.
SEED_PARITY = {
    "dev": {"point_in_time_recovery": False, "daily_backups": False, "amplify_hosting": False},
    "preprod": {"point_in_time_recovery": True, "daily_backups": True, "amplify_hosting": True},
    "prod": {"point_in_time_recovery": True, "daily_backups": True, "amplify_hosting": True},
}
HANDLERS = {
    name: f"services.functions.{name}.handler"
    for name in ("ingestion", "analysis", "dashboard", "notification", "metrics")
}


@pytest.mark.parametrize("module", MODULES)
def test_module_has_main_variables_outputs_and_versions(root: Path, module: str) -> None:
    directory = root / TERRAFORM / "modules" / module
    assert sorted(p.name for p in directory.glob("*.tf")) == sorted(MODULE_FILES)
    versions = load(directory / "versions.tf")["terraform"][0]
    assert "aws" in versions["required_providers"][0]


@pytest.mark.parametrize("module", MODULES)
def test_module_variables_are_typed_and_described_and_outputs_described(
    root: Path, module: str
) -> None:
    directory = root / TERRAFORM / "modules" / module
    variables = named_blocks(load(directory / "variables.tf"), "variable")
    outputs = named_blocks(load(directory / "outputs.tf"), "output")
    assert variables and outputs
    untyped = [name for name, body in variables.items() if "type" not in body]
    undescribed = [
        name for name, body in {**variables, **outputs}.items() if not body.get("description")
    ]
    assert untyped == [] and undescribed == []


def test_environments_share_every_file_but_their_tfvars(root: Path) -> None:
    # One definition (dev's), linked from the others: they cannot drift apart.
    envs = root / TERRAFORM / "envs"
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
        for env in ENVS:
            if env != "dev":
                assert (envs / env / name).readlink() == Path("..") / "dev" / name, (env, name)
        texts = {env: (envs / env / name).read_text() for env in ENVS}
        assert len(set(texts.values())) == 1, f"{name} differs between {sorted(texts)}"


@pytest.mark.parametrize("env", ENVS)
def test_environment_tfvars_carry_the_seed_parity_row(root: Path, env: str) -> None:
    values = tfvars(root, env)
    assert values["environment"] == env
    assert {key: values[key] for key in SEED_PARITY[env]} == SEED_PARITY[env]


@pytest.mark.parametrize("env", ENVS)
def test_environment_wires_parity_into_the_modules_and_has_plan_tests(root: Path, env: str) -> None:
    directory = root / TERRAFORM / "envs" / env
    modules = named_blocks(load(directory / "main.tf"), "module")
    assert set(modules) == set(MODULES)
    assert modules["dynamodb"]["point_in_time_recovery"] == "${var.point_in_time_recovery}"
    assert modules["dynamodb"]["daily_backups"] == "${var.daily_backups}"
    assert modules["amplify"]["count"] == "${var.amplify_hosting ? 1 : 0}"
    assert list((directory / "tests").glob("*.tftest.hcl"))


def iam_access(root: Path) -> dict[str, dict[str, object]]:
    access: dict[str, dict[str, object]] = locals_of(
        load(root / TERRAFORM / "modules" / "iam" / "main.tf")
    )["access"]
    return access


def test_one_role_per_function(root: Path) -> None:
    parsed = load(root / TERRAFORM / "modules" / "iam" / "main.tf")
    assert set(iam_access(root)) == set(HANDLERS)
    assert blocks(parsed, "resource")["aws_iam_role"]["function"]["for_each"] == "${local.access}"


def test_roles_grant_only_what_each_function_does(root: Path) -> None:
    access = iam_access(root)
    # Only ingestion publishes; only analysis writes dead letters; analysis reads no provider
    # key (only the unsubscribe links' key) and metrics no secret; notification reads only
    # SendGrid's key and the unsubscribe key.
    assert [n for n, a in access.items() if a["publishes"]] == ["ingestion"]
    assert [n for n, a in access.items() if a["dead_letters"]] == ["analysis"]
    assert access["analysis"]["secrets"] == ["unsubscribe"] and access["metrics"]["secrets"] == []
    assert access["notification"]["secrets"] == ["sendgrid", "unsubscribe"]
    assert access["ingestion"]["indexes"] == ["by_status"]
    assert access["analysis"]["indexes"] == []
    text = (root / TERRAFORM / "modules" / "iam" / "main.tf").read_text()
    # No wildcard actions; the only "*" resource is X-Ray's, which has no resource ARNs.
    assert ':*"' not in text.replace('-${each.key}:*"', "")
    assert text.count('resources = ["*"]') == 1
    assert 'actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]' in text
    # The metrics function reads; its one write is its own summary item.
    assert "${local.write_actions}" not in str(access["metrics"]["table_actions"])


def test_lambda_module_declares_the_five_handlers_with_128_mb_default(root: Path) -> None:
    parsed = load(root / TERRAFORM / "modules" / "lambda" / "main.tf")
    assert locals_of(parsed)["handlers"] == HANDLERS
    function = blocks(parsed, "resource")["aws_lambda_function"]["this"]
    assert function["memory_size"] == "${lookup(var.memory_mb, each.key, 128)}"
    assert function["tracing_config"][0]["mode"] == '${var.tracing ? "Active" : "PassThrough"}'
    url = blocks(parsed, "resource")["aws_lambda_function_url"]["dashboard"]
    assert url["function_name"] == "${aws_lambda_function.dashboard.function_name}"
    assert "retention_in_days" in blocks(parsed, "resource")["aws_cloudwatch_log_group"]["function"]


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_each_handler_names_a_function_of_the_code(root: Path, name: str) -> None:
    module_name, _, attribute = HANDLERS[name].rpartition(".")
    if not (root / (module_name.replace(".", "/") + ".py")).exists():
        pytest.skip(f"{module_name} is not in the code yet")
    assert callable(getattr(importlib.import_module(module_name), attribute))


def test_schedules_follow_the_design(root: Path) -> None:
    directory = root / TERRAFORM / "modules" / "eventbridge"
    variables = named_blocks(load(directory / "variables.tf"), "variable")
    assert variables["ingestion_schedule"]["default"] == "rate(5 minutes)"
    assert variables["metrics_schedule"]["default"] == "rate(1 minute)"
    schedules = locals_of(load(directory / "main.tf"))["schedules"]
    assert {k: v["function"] for k, v in schedules.items()} == {
        "ingestion": "ingestion",
        "metrics": "metrics",
        "digest": "notification",
    }


def test_analysis_topic_delivers_to_analysis_with_a_dead_letter_queue(root: Path) -> None:
    resources = blocks(load(root / TERRAFORM / "modules" / "sns" / "main.tf"), "resource")
    subscription = resources["aws_sns_topic_subscription"]["analysis"]
    assert subscription["protocol"] == "lambda"
    assert "aws_sqs_queue.dead_letters.arn" in subscription["redrive_policy"]
    assert resources["aws_lambda_permission"]["sns_invokes_analysis"]["principal"] == (
        "sns.amazonaws.com"
    )
