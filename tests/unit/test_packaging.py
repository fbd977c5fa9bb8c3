"""The project's dependency lists agree with each other."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from services.local.dynamodb_local import NPM_PACKAGE, NPM_VERSION

pytestmark = pytest.mark.unit


def test_environment_yml_installs_the_project_from_pyproject(root: Path) -> None:
    # environment.yml brings the toolchains only; pyproject.toml is the one Python list.
    text = (root / "environment.yml").read_text()
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert "python=3.11" in text and "openjdk=17" in text and "nodejs" in text
    assert "-e .[dev]" in text
    assert pyproject["project"]["requires-python"] == ">=3.11"
    extras = pyproject["project"]["optional-dependencies"]
    assert "dev" in extras
    # No Python package is listed in environment.yml besides the project itself.
    pip_lines = [line.strip() for line in text.splitlines() if line.strip().startswith("- -e")]
    assert pip_lines == ["- -e .[dev]"]


def test_dynamodb_local_pin_agrees_everywhere(root: Path) -> None:
    package = json.loads((root / "package.json").read_text())
    lock = json.loads((root / "package-lock.json").read_text())
    assert package["dependencies"][NPM_PACKAGE] == NPM_VERSION == "10.3.0"
    assert lock["packages"][f"node_modules/{NPM_PACKAGE}"]["version"] == NPM_VERSION


def test_ci_runs_the_readme_test_command(root: Path) -> None:
    readme = (root / "README.md").read_text()
    ci = (root / ".ci" / "run").read_text()
    assert "make test" in readme
    assert ci.strip().splitlines()[-1] == "make test"
