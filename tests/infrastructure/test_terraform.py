"""terraform fmt, validate and test (plan mode, mocked AWS provider: no credentials)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.infrastructure.conftest import run_terraform
from tests.infrastructure.hcl import ENVS, TERRAFORM

pytestmark = pytest.mark.infrastructure


def test_terraform_is_formatted(root: Path, terraform: str) -> None:
    # fmt needs no provider: it runs wherever the binary is.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    result = run_terraform(
        terraform, ["fmt", "-check", "-recursive", "-diff", "-no-color"], root / TERRAFORM, env
    )
    assert result.returncode == 0, f"not formatted:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def initialised(terraform: str, terraform_env: dict[str, str], terraform_copy: Path) -> Path:
    for env in ENVS:
        directory = terraform_copy / "envs" / env
        result = run_terraform(
            terraform,
            ["init", "-backend=false", "-input=false", "-no-color"],
            directory,
            {**terraform_env, "TF_DATA_DIR": str(directory / ".terraform")},
        )
        assert result.returncode == 0, f"init {env}:\n{result.stdout}{result.stderr}"
    return terraform_copy


@pytest.mark.parametrize("env", ENVS)
def test_environment_validates(
    terraform: str, terraform_env: dict[str, str], initialised: Path, env: str
) -> None:
    directory = initialised / "envs" / env
    result = run_terraform(
        terraform,
        ["validate", "-no-color"],
        directory,
        {**terraform_env, "TF_DATA_DIR": str(directory / ".terraform")},
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("env", ENVS)
def test_environment_plan_tests_pass_with_mocked_provider(
    terraform: str, terraform_env: dict[str, str], initialised: Path, env: str
) -> None:
    # The .tftest.hcl files assert the parity row, the functions' memory and runtimes, the
    # handlers and the schedules on a plan against mock_provider "aws": no credentials, no
    # AWS call.
    directory = initialised / "envs" / env
    result = run_terraform(
        terraform,
        ["test", "-no-color"],
        directory,
        {**terraform_env, "TF_DATA_DIR": str(directory / ".terraform")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout and " passed" in result.stdout
