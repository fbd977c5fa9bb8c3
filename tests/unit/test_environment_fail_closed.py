"""A deployed function never runs as `local`: in Lambda, settings without SERVICE_ENVIRONMENT
refuse to load, and the chaos routes are served locally and in dev only, never by a function
that calls itself local. Terraform names the environment of every function."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.api.ops_chaos import chaos_allowed
from services.composition.api import table_api_dependencies
from services.functions.dashboard import build_dashboard, declared_routes
from services.settings import Settings
from tests.infrastructure.hcl import ENVS, TERRAFORM, blocks, load, named_blocks

pytestmark = pytest.mark.unit

CHAOS = ("GET", "/api/v2/ops/chaos")


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("SERVICE_ENVIRONMENT", "ENVIRONMENT", "AWS_LAMBDA_FUNCTION_NAME"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def serves_chaos(settings: Settings) -> bool:
    dashboard = build_dashboard(table_api_dependencies(settings))
    return CHAOS in {(r.method, r.template) for r in declared_routes(dashboard.app)}


def test_a_lambda_function_without_its_environment_refuses_to_start(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("AWS_LAMBDA_FUNCTION_NAME", "sentiment-deep-dive-prod-dashboard")
    with pytest.raises(ValueError, match="SERVICE_ENVIRONMENT"):
        Settings()


@pytest.mark.parametrize(("environment", "served"), [("prod", False), ("preprod", False),
                                                     ("local", False), ("dev", True)])  # fmt: skip
def test_in_lambda_the_chaos_routes_are_served_in_dev_only(
    clean_environment: pytest.MonkeyPatch, environment: str, served: bool
) -> None:
    clean_environment.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    clean_environment.setenv("SERVICE_ENVIRONMENT", environment)
    settings = Settings()
    assert settings.environment == environment
    assert chaos_allowed(settings) is served
    assert serves_chaos(settings) is served


def test_off_lambda_the_default_is_local_with_the_chaos_routes(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    settings = Settings()
    assert settings.environment == "local" and serves_chaos(settings)
    clean_environment.setenv("SERVICE_ENVIRONMENT", "prod")
    assert not serves_chaos(Settings())


def test_terraform_names_the_environment_of_every_function(root: Path) -> None:
    lambda_module = load(root / TERRAFORM / "modules" / "lambda" / "main.tf")
    functions = blocks(lambda_module, "resource")["aws_lambda_function"]
    # Every function's variables start from the environment's common map ...
    for name, function in functions.items():
        assert function["environment"][0]["variables"].startswith("${merge(var.environment,"), name
    for env in ENVS:
        wiring = named_blocks(load(root / TERRAFORM / "envs" / env / "main.tf"), "module")
        lambda_call = wiring["lambda"]
        # ... which names the environment, and no function's own map overrides it.
        assert lambda_call["environment"]["SERVICE_ENVIRONMENT"] == "${var.environment}", env
        own = lambda_call.get("function_environment", {})
        assert not any("SERVICE_ENVIRONMENT" in str(v) for v in own.values()), env
