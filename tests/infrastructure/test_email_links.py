"""Deployed e-mails carry working links: the functions that queue alert and digest e-mails know
the API's public URL and read the unsubscribe key from Secrets Manager; every function is
given exactly the secrets its role may read; Cognito passes on `email_verified`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from services.settings import Settings
from tests.infrastructure.hcl import (
    TERRAFORM,
    blocks,
    load,
    locals_of,
    named_blocks,
)

pytestmark = pytest.mark.infrastructure

# analysis queues alert e-mails (services.composition.alert_checker), notification queues the
# digests (services.notifications.digest): both sign unsubscribe links into them. The
# dashboard checks those links (the unsubscribe route).
QUEUES_EMAIL_WITH_LINKS = ("analysis", "notification")
CHECKS_UNSUBSCRIBE_LINKS = "dashboard"
FUNCTIONS = ("ingestion", "analysis", "dashboard", "notification", "metrics")


def _module(root: Path, name: str) -> Path:
    return root / TERRAFORM / "modules" / name


def _env_main(root: Path) -> dict[str, Any]:
    return load(root / TERRAFORM / "envs" / "dev" / "main.tf")


def _iam_secrets(root: Path) -> dict[str, list[str]]:
    access = locals_of(load(_module(root, "iam") / "main.tf"))["access"]
    return {name: list(grants["secrets"]) for name, grants in access.items()}


def test_functions_that_queue_email_get_the_api_url(root: Path) -> None:
    # Given the lambda module
    parsed = load(_module(root, "lambda") / "main.tf")
    functions = blocks(parsed, "resource")["aws_lambda_function"]

    # Then the functions of `this` (every one but the dashboard) get the dashboard's URL,
    # and the dashboard, a resource of its own, moved there from `this`
    assert functions["this"]["for_each"] == "${local.url_readers}"
    readers = locals_of(parsed)["url_readers"]
    assert 'if name != "dashboard"' in readers
    variables = functions["this"]["environment"][0]["variables"]
    assert "PUBLIC_API_URL = trimsuffix(aws_lambda_function_url.dashboard.function_url" in (
        variables
    )
    assert CHECKS_UNSUBSCRIBE_LINKS not in QUEUES_EMAIL_WITH_LINKS
    assert "PUBLIC_API_URL" not in functions["dashboard"]["environment"][0]["variables"]
    assert parsed["moved"] == [
        {
            "from": '${aws_lambda_function.this["dashboard"]}',
            "to": "${aws_lambda_function.dashboard}",
        }
    ]


def test_every_function_gets_the_workbench_url_its_emails_link_to(root: Path) -> None:
    environment = named_blocks(_env_main(root), "module")["lambda"]["environment"]
    assert environment["MAGIC_LINK_URL"] == "${var.workbench_url}"


def test_the_unsubscribe_key_is_a_secret_read_by_the_functions_that_use_it(root: Path) -> None:
    # The secret exists, without a value in Terraform (no key in the state) ...
    secrets = blocks(load(_module(root, "secrets") / "main.tf"), "resource")
    secret = secrets["aws_secretsmanager_secret"]["unsubscribe_signing_key"]
    assert secret["name"] == "${var.name_prefix}/unsubscribe-signing-key"
    assert "aws_secretsmanager_secret_version" not in secrets
    output = named_blocks(load(_module(root, "secrets") / "outputs.tf"), "output")
    assert "unsubscribe = aws_secretsmanager_secret.unsubscribe_signing_key.arn" in str(
        output["secret_arns"]["value"]
    )
    # ... and the roles that sign or check links may read it, the others not.
    granted = {name for name, names in _iam_secrets(root).items() if "unsubscribe" in names}
    assert granted == {*QUEUES_EMAIL_WITH_LINKS, CHECKS_UNSUBSCRIBE_LINKS}


def test_secret_variables_name_settings_of_the_code(root: Path) -> None:
    # Each ARN variable the functions are given is one that services.settings reads.
    variables = locals_of(_env_main(root))["secret_variables"]
    assert variables["unsubscribe"] == "UNSUBSCRIBE_SIGNING_KEY_SECRET_ARN"
    assert {name.lower() for name in variables.values()} <= set(Settings.model_fields)
    all_granted = {name for names in _iam_secrets(root).values() for name in names}
    assert all_granted <= set(variables)


def test_functions_are_given_exactly_the_secrets_their_role_may_read(root: Path) -> None:
    # A function given an ARN its role may not read fails its cold start (Secrets Manager
    # refuses), so no secret ARN is shared by all functions: each gets its role's.
    main = _env_main(root)
    lambda_module = named_blocks(main, "module")["lambda"]
    assert not [name for name in lambda_module["environment"] if name.endswith("_SECRET_ARN")]
    environments = lambda_module["function_environment"]
    assert set(environments) == set(FUNCTIONS)
    for name in FUNCTIONS:
        assert re.match(
            rf'^\$\{{(merge\()?local\.secret_environment\["{name}"\]', environments[name]
        ), name
    secret_environment = locals_of(main)["secret_environment"]
    assert "module.iam.secrets_read" in secret_environment
    iam_outputs = named_blocks(load(_module(root, "iam") / "outputs.tf"), "output")
    assert iam_outputs["secrets_read"]["value"] == (
        "${{for name, access in local.access : name => access.secrets}}"
    )


def test_cognito_passes_on_whether_google_verified_the_address(root: Path) -> None:
    # services/auth/oauth.py refuses an ID token without email_verified: Cognito puts in its
    # token only the attributes mapped from Google's.
    resources = blocks(load(_module(root, "cognito") / "main.tf"), "resource")
    mapping = resources["aws_cognito_identity_provider"]["google"]["attribute_mapping"]
    assert mapping["email_verified"] == "email_verified"
    assert mapping["email"] == "email"
