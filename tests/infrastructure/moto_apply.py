"""Applying an environment to moto's AWS server: what the provider is pointed at, what moto
cannot hold, and how the plan after the apply is read.

Nothing here runs Terraform or starts a server. tests/infrastructure/test_moto_deploy.py does,
where a provider mirror exists; tests/infrastructure/test_moto_apply.py checks this module on
every machine.

A second plan right after an apply should be empty. Against moto it is not quite: moto
accepts some settings and never reports them back, so every refresh reads them as missing and
the plan puts them back. KNOWN_GAPS names each such attribute with the reason; any other
change in that plan means the configuration does not converge and is reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.infrastructure.hcl import blocks, load

# The provider's `endpoints` key of each resource or data source type, by type prefix (the
# longest matching prefix wins). None: the provider answers it without calling AWS. A type
# missing from this table fails `endpoint_services`, so a new kind of resource cannot send
# its calls to the real AWS endpoints unnoticed.
ENDPOINT_BY_TYPE_PREFIX: Mapping[str, str | None] = {
    "aws_amplify_": "amplify",
    "aws_backup_": "backup",
    "aws_caller_identity": "sts",
    "aws_cloudwatch_event_": "events",
    "aws_cloudwatch_log_": "logs",
    "aws_cognito_": "cognitoidp",
    "aws_dynamodb_": "dynamodb",
    "aws_iam_": "iam",
    "aws_iam_policy_document": None,
    "aws_lambda_": "lambda",
    "aws_partition": None,
    "aws_region": None,
    "aws_s3_": "s3",
    "aws_secretsmanager_": "secretsmanager",
    "aws_sns_": "sns",
    "aws_sqs_": "sqs",
}

# moto's name for a service where it differs from the provider's endpoint key.
MOTO_BACKEND_BY_ENDPOINT: Mapping[str, str] = {"lambda": "awslambda"}

# Credentials moto accepts; nothing checks them, and they open nothing anywhere else.
DUMMY_ACCESS_KEY = "moto-access-key"
DUMMY_SECRET_KEY = "moto-secret-key"
DUMMY_CLIENT_SECRET = "moto-google-client-secret"


class UnknownResourceTypeError(ValueError):
    """A resource type ENDPOINT_BY_TYPE_PREFIX cannot place."""


@dataclass(frozen=True)
class LeftOut:
    """Resources moto cannot create, and the environment variable that leaves them out of the
    apply (the plan-mode `terraform test` still covers them)."""

    variable: str
    value: bool
    resource_types: tuple[str, ...]
    reason: str


LEFT_OUT_UNDER_MOTO: tuple[LeftOut, ...] = (
    LeftOut(
        variable="amplify_hosting",
        value=False,
        resource_types=("aws_amplify_app", "aws_amplify_branch"),
        reason="moto serves no Amplify API: CreateApp gets an internal server error.",
    ),
    LeftOut(
        variable="daily_backups",
        value=False,
        resource_types=("aws_backup_selection",),
        reason=(
            "moto's Backup service has vaults and plans but no CreateBackupSelection, so the "
            "table could not be assigned to the daily plan."
        ),
    ),
)

# Values a teardown needs where the environment's differ: moto, like AWS, refuses to delete a
# table with deletion protection on, so a protected environment is first applied unprotected.
TEARDOWN_VARIABLES: Mapping[str, bool] = {"deletion_protection": False}


@dataclass(frozen=True)
class KnownGap:
    """An attribute moto does not keep, so the plan after an apply changes it again.

    `address` is a resource address in which `*` matches any run of characters (brackets and
    quotes are literal, as Terraform writes them).
    """

    address: str
    attribute: str
    reason: str

    def covers(self, address: str, attribute: str) -> bool:
        pattern = ".*".join(re.escape(part) for part in self.address.split("*"))
        return attribute == self.attribute and re.fullmatch(pattern, address) is not None


KNOWN_GAPS: tuple[KnownGap, ...] = (
    KnownGap(
        address='module.lambda.aws_lambda_function.this["analysis"]',
        attribute="dead_letter_config",
        reason=(
            "moto's Lambda accepts DeadLetterConfig on CreateFunction but never returns it "
            "from GetFunction, so each refresh reads the analysis function's dead-letter "
            "queue as unset and the plan sets it again."
        ),
    ),
)


@dataclass(frozen=True)
class PlanChange:
    """One resource the plan would touch: its actions and, for an update, what changes."""

    address: str
    actions: tuple[str, ...]
    attributes: tuple[str, ...] = ()

    def __str__(self) -> str:
        changed = f" ({', '.join(self.attributes)})" if self.attributes else ""
        return f"{self.address}: {'+'.join(self.actions)}{changed}"


# --- the provider override and the variables -----------------------------------------------


def terraform_types(terraform_dir: Path) -> set[str]:
    """Every resource and data source type declared under `terraform_dir`."""
    types: set[str] = set()
    for path in sorted(terraform_dir.rglob("*.tf")):
        if ".terraform" in path.parts:
            continue
        parsed = load(path)
        for kind in ("resource", "data"):
            types.update(blocks(parsed, kind))
    return types


def endpoint_service(resource_type: str) -> str | None:
    prefixes = [p for p in ENDPOINT_BY_TYPE_PREFIX if resource_type.startswith(p)]
    if not prefixes:
        raise UnknownResourceTypeError(
            f"{resource_type}: add its provider endpoint key to ENDPOINT_BY_TYPE_PREFIX in "
            f"{Path(__file__).name}, or its calls would go to AWS itself"
        )
    return ENDPOINT_BY_TYPE_PREFIX[max(prefixes, key=len)]


def endpoint_services(resource_types: Iterable[str]) -> list[str]:
    """The provider endpoint keys the given types call, sorted."""
    services = {endpoint_service(t) for t in resource_types}
    return sorted(s for s in services if s is not None)


def moto_backend(service: str) -> str:
    return MOTO_BACKEND_BY_ENDPOINT.get(service, service)


def hcl_value(value: str | bool | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # JSON's escapes are HCL's; `${` and `%{` would start a template sequence in HCL.
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")


def _aligned(assignments: Mapping[str, str | bool | int], indent: str) -> list[str]:
    """`name = value` lines with the equals signs aligned, as `terraform fmt` writes them."""
    width = max((len(name) for name in assignments), default=0)
    return [f"{indent}{name.ljust(width)} = {hcl_value(v)}" for name, v in assignments.items()]


def render_provider_override(endpoint_url: str, services: Sequence[str]) -> str:
    """An override file (`*_override.tf`) for the environment's `provider "aws"` block."""
    settings: dict[str, str | bool | int] = {
        "access_key": DUMMY_ACCESS_KEY,
        "secret_key": DUMMY_SECRET_KEY,
        # No call to STS or IAM to check the keys or find the account, no instance metadata.
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": True,
        # moto answers every service on one host: buckets go in the path, not the host name.
        "s3_use_path_style": True,
    }
    endpoints = dict.fromkeys(services, endpoint_url)
    lines = [
        "# Every AWS call of this copy goes to moto's server (tests/infrastructure/).",
        'provider "aws" {',
        *_aligned(settings, "  "),
        "",
        "  endpoints {",
        *_aligned(endpoints, "    "),
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def moto_variables(package_path: Path, analysis_package_path: Path) -> dict[str, str | bool]:
    """The variables of an apply to moto: the artifacts, a placeholder OAuth client secret,
    and the LEFT_OUT_UNDER_MOTO switches."""
    values: dict[str, str | bool] = {
        "package_path": str(package_path),
        "analysis_package_path": str(analysis_package_path),
        "google_client_secret": DUMMY_CLIENT_SECRET,
    }
    values.update({left.variable: left.value for left in LEFT_OUT_UNDER_MOTO})
    return values


def render_tfvars(values: Mapping[str, str | bool | int]) -> str:
    """A `*.auto.tfvars` file: loaded after terraform.tfvars, so its values win."""
    return "\n".join(_aligned(values, "")) + "\n"


def teardown_variables(environment_values: Mapping[str, Any]) -> dict[str, bool]:
    """The TEARDOWN_VARIABLES whose value differs from the environment's."""
    return {
        name: value
        for name, value in TEARDOWN_VARIABLES.items()
        if environment_values.get(name, value) != value
    }


# --- reading the plan ---------------------------------------------------------------------


def _holds_unknown(marker: Any) -> bool:
    """Whether an `after_unknown` entry marks any value, at any depth, as unknown."""
    if isinstance(marker, bool):
        return marker
    if isinstance(marker, dict):
        return any(_holds_unknown(v) for v in marker.values())
    if isinstance(marker, list):
        return any(_holds_unknown(v) for v in marker)
    return False


def changed_attributes(change: Mapping[str, Any]) -> tuple[str, ...]:
    """Top-level attributes that differ between `before` and `after`, or become unknown."""
    before = change.get("before") or {}
    after = change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    names = set(before) | set(after)
    differing = {n for n in names if before.get(n) != after.get(n)}
    differing |= {n for n, marker in unknown.items() if _holds_unknown(marker)}
    return tuple(sorted(differing))


def plan_changes(plan: Mapping[str, Any]) -> list[PlanChange]:
    """Every resource change of a `terraform show -json` plan but no-ops and data reads."""
    changes = []
    for resource in plan.get("resource_changes", []):
        change = resource["change"]
        actions = tuple(change["actions"])
        if actions in (("no-op",), ("read",)):
            continue
        attributes = changed_attributes(change) if actions == ("update",) else ()
        changes.append(PlanChange(resource["address"], actions, attributes))
    return changes


def _explained(change: PlanChange, attribute: str, gaps: Sequence[KnownGap]) -> bool:
    return any(gap.covers(change.address, attribute) for gap in gaps)


def unexplained_changes(
    plan: Mapping[str, Any], gaps: Sequence[KnownGap] = KNOWN_GAPS
) -> list[PlanChange]:
    """The changes no known gap accounts for, each with its unexplained attributes only.

    Only an in-place update can be explained: a create, delete or replacement means the
    apply did not converge, whatever moto keeps. An update showing no attribute change is
    reported too (nothing says why it is there).
    """
    unexplained = []
    for change in plan_changes(plan):
        if change.actions != ("update",) or not change.attributes:
            unexplained.append(change)
            continue
        left = tuple(a for a in change.attributes if not _explained(change, a, gaps))
        if left:
            unexplained.append(PlanChange(change.address, change.actions, left))
    return unexplained


def unobserved_gaps(
    plan: Mapping[str, Any], gaps: Sequence[KnownGap] = KNOWN_GAPS
) -> list[KnownGap]:
    """Known gaps this plan does not show: moto may keep the attribute now."""
    updates = [c for c in plan_changes(plan) if c.actions == ("update",)]
    return [
        gap
        for gap in gaps
        if not any(gap.covers(c.address, a) for c in updates for a in c.attributes)
    ]


def managed_resources(plan: Mapping[str, Any]) -> int:
    """How many managed resources the plan compares against the state (no-ops included)."""
    return sum(1 for r in plan.get("resource_changes", []) if r.get("mode") == "managed")
