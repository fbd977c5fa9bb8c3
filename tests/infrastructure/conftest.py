"""Terraform for the infrastructure tests: the binary, a provider mirror, a scratch copy.

`terraform validate`, `terraform test` and the apply to moto (test_moto_deploy.py) need the
hashicorp/aws provider plugin. Nothing is downloaded by these tests: they use a provider
mirror on disk, named by TF_PLUGIN_MIRROR (a directory laid out as
<host>/<namespace>/<type>/<version>/<os_arch>/, as `terraform providers mirror DIR` writes
it) or by a CLI configuration (TF_CLI_CONFIG_FILE) whose provider_installation block has a
filesystem_mirror. Without one they skip and say so.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.infrastructure.hcl import TERRAFORM

NO_TERRAFORM = (
    "terraform is not on PATH: install Terraform >= 1.7 (a single binary) to run "
    "terraform fmt/validate/test"
)
NO_MIRROR = (
    "no Terraform provider mirror configured: terraform validate/test need the hashicorp/aws "
    "provider (>= 5.70, < 6.0) and these tests download nothing. Either set "
    "TF_PLUGIN_MIRROR=/path/to/mirror, a directory holding "
    "registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/terraform-provider-aws_* "
    "(fill it on a machine with network with `terraform providers mirror /path/to/mirror` "
    "run in infrastructure/terraform/envs/dev), or set TF_CLI_CONFIG_FILE to a CLI config "
    'with `provider_installation { filesystem_mirror { path = "/path/to/mirror" } }`'
)


def mirror_cli_config(directory: Path) -> str:
    return (
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{directory}"\n'
        '    include = ["registry.terraform.io/*/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n'
    )


@pytest.fixture(scope="session")
def terraform() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip(NO_TERRAFORM)
    return binary


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of terraform commands that need the provider, or a skip."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env["TF_IN_AUTOMATION"] = "1"
    env["CHECKPOINT_DISABLE"] = "1"
    mirror = os.environ.get("TF_PLUGIN_MIRROR")
    config = os.environ.get("TF_CLI_CONFIG_FILE")
    if mirror and Path(mirror).is_dir():
        path = tmp_path_factory.mktemp("terraform-cli") / "mirror.tfrc"
        path.write_text(mirror_cli_config(Path(mirror).resolve()))
        env["TF_CLI_CONFIG_FILE"] = str(path)
    elif config and Path(config).is_file() and "filesystem_mirror" in Path(config).read_text():
        env["TF_CLI_CONFIG_FILE"] = config
    else:
        pytest.skip(NO_MIRROR)
    return env


@pytest.fixture(scope="session")
def terraform_copy(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of infrastructure/terraform: init writes lock files and .terraform/."""
    return copy_terraform(root, tmp_path_factory.mktemp("terraform") / "terraform")


def copy_terraform(root: Path, target: Path) -> Path:
    """infrastructure/terraform at `target`, without local state or a .terraform directory;
    envs/ and modules/ keep their relative places, so `../../modules` still resolves."""
    shutil.copytree(
        root / TERRAFORM, target, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*")
    )
    return target


def run_terraform(
    terraform: str, args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return run_bounded([terraform, *args], cwd, env, timeout)


def run_bounded(
    args: list[str], cwd: Path, env: dict[str, str] | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a command to its end, or stop it and everything it started once `timeout` passes
    (or the test is interrupted), then raise.

    subprocess.run's own timeout kills the direct child only: the provider plugins terraform
    starts, or the pip a build starts, would outlive it.
    """
    with subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:  # the timeout, Ctrl-C, pytest-timeout's failure
            stop_process_group(process)
            raise
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def stop_process_group(process: subprocess.Popen[str], grace_s: float = 10) -> None:
    """SIGTERM the command's process group (terraform then stops its plugins), SIGKILL what
    is left after `grace_s`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.communicate(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue
