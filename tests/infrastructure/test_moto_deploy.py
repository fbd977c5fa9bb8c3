"""Each environment applied to moto's AWS server: it deploys, a second plan shows only moto's
known gaps (moto_apply.KNOWN_GAPS), and it is destroyed again.

The apply needs the hashicorp/aws provider from a local mirror (see conftest.py) and skips
without one. The server listens on 127.0.0.1 only, and the provider override sends every
service the modules use there: nothing reaches AWS. The tests below the deploy need no
provider and run wherever the terraform binary is.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from infrastructure.packaging.build import ANALYSIS, LAMBDA
from services.local.paths import project_root
from services.local.processes import free_port, spawn, stop_process
from tests.infrastructure.conftest import copy_terraform, run_bounded, run_terraform
from tests.infrastructure.hcl import TERRAFORM, tfvars
from tests.infrastructure.moto_apply import (
    DUMMY_ACCESS_KEY,
    DUMMY_SECRET_KEY,
    KNOWN_GAPS,
    endpoint_services,
    managed_resources,
    moto_variables,
    render_provider_override,
    render_tfvars,
    teardown_variables,
    terraform_types,
    unexplained_changes,
    unobserved_gaps,
)

pytestmark = pytest.mark.infrastructure

ENVIRONMENTS = sorted(p.name for p in (project_root() / TERRAFORM / "envs").iterdir() if p.is_dir())
OVERRIDE_FILE = "moto_override.tf"
VARIABLES_FILE = "moto.auto.tfvars"
PLAN_FILE = "moto.tfplan"
BUILD_DIR = Path("build")  # where `make package` writes the artifacts
LOOPBACK = "127.0.0.1"

# Bounds, not expectations: an apply of dev to moto takes about a minute.
PACKAGING_TIMEOUT_S = 1800  # pip downloads the wheels of both artifacts
MOTO_START_TIMEOUT_S = 30
INIT_TIMEOUT_S = 300
APPLY_TIMEOUT_S = 900
PLAN_TIMEOUT_S = 600
SHOW_TIMEOUT_S = 120
DESTROY_TIMEOUT_S = 900
# The first environment's test also builds the artifacts; a protected one applies twice.
DEPLOY_TIMEOUT_S = (
    PACKAGING_TIMEOUT_S
    + MOTO_START_TIMEOUT_S
    + INIT_TIMEOUT_S
    + 2 * APPLY_TIMEOUT_S
    + PLAN_TIMEOUT_S
    + SHOW_TIMEOUT_S
    + DESTROY_TIMEOUT_S
)


def failure(step: str, result: subprocess.CompletedProcess[str]) -> str:
    return f"terraform {step} exited {result.returncode}:\n{result.stdout[-6000:]}{result.stderr}"


@pytest.fixture(scope="session")
def lambda_artifacts(
    root: Path, terraform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """build/lambda.zip and build/lambda-analysis.zip: those `make package` left, else built
    now by the same module into a scratch directory (the checkout is not written).

    `terraform_env` comes first so that a machine without a mirror skips before building.
    """
    names = {"package_path": LAMBDA.name, "analysis_package_path": ANALYSIS.name}
    built = {key: root / BUILD_DIR / f"{name}.zip" for key, name in names.items()}
    if all(path.is_file() for path in built.values()):
        return built
    output = tmp_path_factory.mktemp("lambda-artifacts")
    command = [sys.executable, "-m", "infrastructure.packaging", "--output-dir", str(output)]
    result = run_bounded([*command, "--root", str(root)], root, None, PACKAGING_TIMEOUT_S)
    assert result.returncode == 0, (
        f"building the Lambda artifacts failed (run `make package` first to reuse build/):\n"
        f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )
    return {key: output / f"{name}.zip" for key, name in names.items()}


def wait_until_listening(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + MOTO_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"moto's server exited {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"moto's server did not listen on {LOOPBACK}:{port} in {MOTO_START_TIMEOUT_S} s")


@pytest.fixture
def moto_endpoint(tmp_path: Path) -> Iterator[str]:
    """A moto server of this test alone (a process: its state goes with it), on loopback."""
    port = free_port(LOOPBACK)
    log_path = tmp_path / "moto.log"
    with log_path.open("wb") as log:
        server = spawn(
            [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)], log=log
        )
        try:
            wait_until_listening(port, server, log_path)
            yield f"http://{LOOPBACK}:{port}"
        finally:
            stop_process(server)


def prepare_copy(
    root: Path, env: str, target: Path, endpoint: str, variables: Mapping[str, str | bool]
) -> Path:
    """A scratch copy of the Terraform with the moto override and variables in `env`."""
    terraform_dir = copy_terraform(root, target)
    services = endpoint_services(terraform_types(terraform_dir))
    directory = terraform_dir / "envs" / env
    (directory / OVERRIDE_FILE).write_text(render_provider_override(endpoint, services))
    (directory / VARIABLES_FILE).write_text(render_tfvars(variables))
    return directory


def moto_terraform_env(terraform_env: dict[str, str]) -> dict[str, str]:
    """terraform's environment without the caller's AWS settings, loopback never proxied."""
    env = {k: v for k, v in terraform_env.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, [env.get(name), LOOPBACK, "localhost"]))
    return env


@dataclass(frozen=True)
class Deployment:
    """An environment applied to moto: its scratch directory and how to run terraform there."""

    name: str
    directory: Path
    terraform: str
    env: dict[str, str]

    def run(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return run_terraform(
            self.terraform, [*args, "-no-color"], self.directory, self.env, timeout
        )

    def tear_down(self, environment_values: dict[str, object]) -> None:
        unprotect = [
            f"-var={k}={str(v).lower()}" for k, v in teardown_variables(environment_values).items()
        ]
        if unprotect:
            result = self.run(
                "apply", "-input=false", "-auto-approve", *unprotect, timeout=APPLY_TIMEOUT_S
            )
            assert result.returncode == 0, failure("apply (protection off)", result)
        result = self.run(
            "destroy", "-input=false", "-auto-approve", *unprotect, timeout=DESTROY_TIMEOUT_S
        )
        assert result.returncode == 0, failure("destroy", result)


@pytest.fixture
def deployed(
    root: Path,
    env: str,
    terraform: str,
    terraform_env: dict[str, str],
    lambda_artifacts: dict[str, Path],
    moto_endpoint: str,
    tmp_path: Path,
) -> Iterator[Deployment]:
    """`env` initialised from the mirror and applied to moto; destroyed afterwards (a failed
    destroy is reported as this test's teardown error)."""
    variables = moto_variables(**lambda_artifacts)
    directory = prepare_copy(root, env, tmp_path / "terraform", moto_endpoint, variables)
    deployment = Deployment(env, directory, terraform, moto_terraform_env(terraform_env))
    result = deployment.run("init", "-input=false", timeout=INIT_TIMEOUT_S)
    assert result.returncode == 0, failure("init", result)
    result = deployment.run("apply", "-input=false", "-auto-approve", timeout=APPLY_TIMEOUT_S)
    assert result.returncode == 0, failure("apply", result)
    yield deployment
    deployment.tear_down(tfvars(root, env))


@pytest.mark.timeout(DEPLOY_TIMEOUT_S)
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_applied_to_moto_plans_nothing_but_known_moto_gaps(
    deployed: Deployment,
) -> None:
    result = deployed.run(
        "plan", "-input=false", "-detailed-exitcode", f"-out={PLAN_FILE}", timeout=PLAN_TIMEOUT_S
    )
    # -detailed-exitcode: 0 no changes, 2 changes (read below), 1 an error.
    assert result.returncode in (0, 2), failure("plan", result)
    shown = deployed.run("show", "-json", PLAN_FILE, timeout=SHOW_TIMEOUT_S)
    assert shown.returncode == 0, failure("show", shown)
    plan = json.loads(shown.stdout)
    assert managed_resources(plan) > 0, "the plan compares against an empty state"
    unexplained = unexplained_changes(plan)
    assert unexplained == [], (
        f"{deployed.name}: the plan after the apply changes what no known moto gap explains "
        "(fix the configuration, or add the gap with its reason to KNOWN_GAPS):\n"
        + "\n".join(f"  {change}" for change in unexplained)
    )
    for gap in unobserved_gaps(plan, KNOWN_GAPS):
        warnings.warn(
            f"{deployed.name}: known moto gap not seen ({gap.address} {gap.attribute}); if moto "
            "keeps it now, drop it from KNOWN_GAPS",
            stacklevel=1,
        )


# --- what runs without the provider -------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_moto_override_loads_with_the_environment(
    root: Path, terraform: str, env: str, tmp_path: Path
) -> None:
    # `terraform get` installs the local modules and `terraform providers` loads the whole
    # configuration, overrides merged, without the provider: a malformed override, or one
    # without the base `provider "aws"` block to merge into, fails here.
    variables = moto_variables(tmp_path / "lambda.zip", tmp_path / "lambda-analysis.zip")
    directory = prepare_copy(root, env, tmp_path / "terraform", "http://127.0.0.1:1", variables)
    plain_env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    plain_env["CHECKPOINT_DISABLE"] = "1"
    for args in (["get", "-no-color"], ["providers", "-no-color"]):
        result = run_terraform(terraform, args, directory, plain_env, timeout=INIT_TIMEOUT_S)
        assert result.returncode == 0, failure(args[0], result)
    assert "hashicorp/aws" in result.stdout
    result = run_terraform(
        terraform,
        ["fmt", "-check", "-diff", "-no-color", OVERRIDE_FILE, VARIABLES_FILE],
        directory,
        plain_env,
        timeout=SHOW_TIMEOUT_S,
    )
    assert result.returncode == 0, f"not as terraform fmt writes it:\n{result.stdout}"


def test_the_moto_server_answers_on_loopback_with_the_dummy_credentials(
    moto_endpoint: str,
) -> None:
    # The identity the provider's aws_caller_identity reads, through the endpoint and the
    # keys the override gives it.
    sts = boto3.client(
        "sts",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id=DUMMY_ACCESS_KEY,
        aws_secret_access_key=DUMMY_SECRET_KEY,
    )
    assert sts.get_caller_identity()["Account"].isdigit()
    assert moto_endpoint.startswith(f"http://{LOOPBACK}:")
