"""Reading the Terraform of the repository with python-hcl2.

python-hcl2 (8.x) keeps HCL's quotes around string literals and block labels; `unquote`
strips them so tests compare plain values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2

TERRAFORM = Path("infrastructure") / "terraform"
MODULES = ("dynamodb", "iam", "secrets", "sns", "cognito", "amplify", "eventbridge", "lambda")
ENVS = ("dev", "preprod", "prod")
MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf")


def unquote(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


def load(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        parsed: dict[str, Any] = unquote(hcl2.load(handle))
    return parsed


def blocks(parsed: dict[str, Any], kind: str) -> dict[str, Any]:
    """`resource`/`data` blocks as {type: {name: body}}, merged over the file's list of them."""
    merged: dict[str, dict[str, Any]] = {}
    for block in parsed.get(kind, []):
        for type_, named in block.items():
            merged.setdefault(type_, {}).update(named)
    return merged


def named_blocks(parsed: dict[str, Any], kind: str) -> dict[str, Any]:
    """`variable`/`output` blocks as {name: body}."""
    merged: dict[str, Any] = {}
    for block in parsed.get(kind, []):
        merged.update(block)
    return merged


def locals_of(parsed: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for block in parsed.get("locals", []):
        merged.update(block)
    return merged


def tfvars(root: Path, env: str) -> dict[str, Any]:
    return load(root / TERRAFORM / "envs" / env / "terraform.tfvars")
