"""The project's dependency lists agree with each other: environment.yml, package.json, the
lock (constraints.txt) and pyproject.toml's ranges, the Makefile and pre-commit; and the
Lambda artifacts carry the handlers' import closure, nothing the functions never run."""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from infrastructure.packaging.__main__ import main as package_main
from infrastructure.packaging.build import ARTIFACTS, LOCK_FILE
from infrastructure.packaging.closure import FORBIDDEN_PACKAGES
from infrastructure.packaging.lock import (
    PROJECT_NAME,
    Kept,
    Pin,
    argument_parser,
    kept_pins,
    make_lock,
    render,
)
from infrastructure.packaging.pins import (
    canonical_name,
    pins_for_artifact,
    read_artifact_pins,
    read_pins,
)
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


# --- the Lambda artifacts carry the handlers' import closure ---------------------------------


@pytest.fixture(scope="module")
def manifests(root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Both artifacts built from the repository's code (no wheels: nothing is downloaded),
    artifact key -> its manifest as `make package` writes it."""
    out = tmp_path_factory.mktemp("build")
    assert package_main(["--root", str(root), "--output-dir", str(out), "--no-dependencies"]) == 0
    return {
        key: json.loads((out / f"{artifact.name}.json").read_text())
        for key, artifact in ARTIFACTS.items()
    }


@pytest.mark.parametrize("key", ARTIFACTS)
def test_the_manifest_lists_every_handler_module_of_its_artifact(
    manifests: dict[str, dict[str, Any]], key: str
) -> None:
    manifest = manifests[key]
    modules = set(manifest["modules"])
    assert manifest["functions"] == list(ARTIFACTS[key].functions)
    for function in ARTIFACTS[key].functions:
        assert f"services.functions.{function}" in modules
    assert {"services", "services.functions"} <= modules
    assert manifest["top_level"] == ["services"]
    # The manifest keeps the sizes and counts it always wrote.
    for field in ("sha256", "zipped_bytes", "unzipped_bytes", "files", "distributions"):
        assert field in manifest


@pytest.mark.parametrize("key", ARTIFACTS)
@pytest.mark.parametrize("package", FORBIDDEN_PACKAGES)
def test_the_manifest_excludes_the_packages_no_function_runs(
    manifests: dict[str, dict[str, Any]], key: str, package: str
) -> None:
    modules = manifests[key]["modules"]
    assert not [m for m in modules if m == package or m.startswith(package + ".")]
    assert all(m.startswith("services") for m in modules)


# --- the lock ---------------------------------------------------------------------------------


def _requirements_to_lock(root: Path) -> list[Requirement]:
    """pyproject's dependencies and the extras `dev` brings (a self-reference expanded)."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    found = [Requirement(r) for r in project["dependencies"]]
    pending, seen = ["dev"], set()
    while pending:
        extra = pending.pop()
        seen.add(extra)
        for requirement in map(Requirement, extras[extra]):
            if canonical_name(requirement.name) == PROJECT_NAME:
                pending += [e for e in requirement.extras if e not in seen]
            else:
                found.append(requirement)
    return found


def test_the_lock_pins_every_requirement_of_dev_within_pyproject_ranges(root: Path) -> None:
    # A range changed in pyproject.toml without `make lock` fails here, not in CI's install.
    pins = read_pins((root / LOCK_FILE).read_text())
    for requirement in _requirements_to_lock(root):
        name = canonical_name(requirement.name)
        assert name in pins, f"{name} is not in {LOCK_FILE}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} is outside {requirement}: run `make lock`"
        )


def test_the_lock_is_sorted_canonical_and_names_no_path_or_host(root: Path) -> None:
    text = (root / LOCK_FILE).read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    names = [line.split("==", 1)[0] for line in lines]
    assert names == sorted(set(names)) and names == [canonical_name(n) for n in names]
    assert PROJECT_NAME not in names
    assert "/" not in "".join(lines) and "://" not in text
    # The analysis artifact's runtime pins are marked, numpy among them.
    numpy = next(line for line in lines if line.startswith("numpy=="))
    assert "lambda-analysis" in numpy.split("#", 1)[1]


@pytest.mark.parametrize("key", ARTIFACTS)
def test_each_artifact_installs_versions_within_its_platform_caps(root: Path, key: str) -> None:
    # The shared artifact's numpy is its own (python3.11's Amazon Linux 2 loads no newer
    # wheel); every other version of an artifact is the lock's.
    text = (root / LOCK_FILE).read_text()
    artifact = ARTIFACTS[key]
    pins = pins_for_artifact(text, artifact.name)
    for cap in map(Requirement, artifact.platform_caps):
        assert cap.specifier.contains(pins[canonical_name(cap.name)]), cap
    capped = {canonical_name(Requirement(cap).name) for cap in artifact.platform_caps}
    assert set(read_artifact_pins(text).get(artifact.name, {})) <= capped


def test_the_lock_format_reads_pins_freeze_output_and_artifact_pins() -> None:
    text = (
        "# comment\n-e /somewhere\nPyYAML==6.0.4  # lambda-analysis\n"
        "typing_extensions==4.16.0\nnumpy==2.4.6\nname @ file:///x.whl\n"
        "# [lambda] numpy==2.2.6\n"
    )
    assert read_pins(text) == {"pyyaml": "6.0.4", "typing-extensions": "4.16.0", "numpy": "2.4.6"}
    assert read_artifact_pins(text) == {"lambda": {"numpy": "2.2.6"}}
    assert pins_for_artifact(text, "lambda")["numpy"] == "2.2.6"
    assert pins_for_artifact(text, "lambda-analysis")["numpy"] == "2.4.6"


def _recording_pip(
    calls: list[tuple[list[str], list[str]]], chosen: dict[str, dict[str, str]]
) -> Callable[..., None]:
    """A pip whose dry run reports `chosen[python]` (python "" for this interpreter)."""

    def run(command: list[str], check: bool, cwd: Path) -> None:
        constraints = Path(command[command.index("--constraint") + 1]).read_text().splitlines()
        calls.append((command, constraints))
        python = command[command.index("--python-version") + 1] if "--platform" in command else ""
        install = [{"metadata": {"name": n, "version": v}} for n, v in chosen[python].items()]
        report = {"install": install, "environment": {"python_version": "3.11"}}
        Path(command[command.index("--report") + 1]).write_text(json.dumps(report))

    return run


def test_the_lock_resolves_dev_then_each_lambda_platform_within_its_versions(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `dev` first, within the kept pins; then each artifact for its platform within the
    # versions `dev` got, less what it caps (the shared artifact's numpy), plus its caps.
    calls: list[tuple[list[str], list[str]]] = []
    chosen = {
        "": {"numpy": "2.4.6", "httpx": "0.29.0", "pytest": "9.0.0", PROJECT_NAME: "0.1"},
        "3.11": {"numpy": "2.2.6", "httpx": "0.29.0"},
        "3.12": {"numpy": "2.4.6", "httpx": "0.29.0", "truststore": "0.10.5"},
    }
    monkeypatch.setattr(subprocess, "run", _recording_pip(calls, chosen))
    lock = make_lock(root, Kept(pins={"pytest": "9.0.0"}), pip=("pip",))
    assert calls[0][0][-1] == ".[dev]" and "--platform" not in calls[0][0]
    assert calls[0][1] == ["pytest==9.0.0"]
    assert [c[0][c[0].index("--python-version") + 1] for c in calls[1:]] == ["3.11", "3.12"]
    assert calls[1][1] == ["httpx==0.29.0", "pytest==9.0.0", "numpy<2.3"]
    assert calls[2][1] == ["httpx==0.29.0", "numpy==2.4.6", "pytest==9.0.0"]
    assert lock.pins == {
        "httpx": Pin("0.29.0", ("lambda", "lambda-analysis")),
        "numpy": Pin("2.4.6", ("lambda-analysis",)),
        "pytest": Pin("9.0.0"),
        "truststore": Pin("0.10.5", ("lambda-analysis",)),
    }
    assert lock.artifact_pins == {"lambda": {"numpy": "2.2.6"}}
    # What render writes, the build reads back: each artifact gets its own versions.
    text = render(lock)
    assert "# [lambda] numpy==2.2.6" in text and "numpy==2.4.6  # lambda-analysis" in text
    assert pins_for_artifact(text, "lambda")["numpy"] == "2.2.6"
    assert pins_for_artifact(text, "lambda-analysis")["numpy"] == "2.4.6"


def test_make_lock_keeps_the_pins_but_those_asked_to_move(tmp_path: Path) -> None:
    lock_file = tmp_path / LOCK_FILE
    lock_file.write_text("numpy==2.4.6\nhttpx==0.29.0\n# [lambda] numpy==2.2.6\n")
    parser = argument_parser()
    kept = kept_pins(lock_file, parser.parse_args(["--upgrade-package", "NumPy"]))
    assert kept == Kept(pins={"httpx": "0.29.0"}, artifact_pins={"lambda": {}})
    assert kept_pins(lock_file, parser.parse_args(["--upgrade"])) == Kept()


def test_make_installs_through_the_lock_and_reinstalls_when_it_changes(root: Path) -> None:
    makefile = (root / "Makefile").read_text()
    assert f"LOCK := {LOCK_FILE}" in makefile
    assert "$(VENV)/.installed: pyproject.toml $(LOCK)" in makefile
    assert '$(PY) -m pip install -q -c $(LOCK) -e ".[dev]"' in makefile
    assert "$(PY) -m infrastructure.packaging.lock $(ARGS)" in makefile


def test_pre_commit_runs_the_checks_of_make_check_from_the_venv(root: Path) -> None:
    # Read as text: three local hooks, each a tool of the venv over what `make check` checks.
    config = (root / ".pre-commit-config.yaml").read_text()
    makefile = (root / "Makefile").read_text()
    entries = [
        line.split("entry:", 1)[1].strip() for line in config.splitlines() if "entry:" in line
    ]
    expected = []
    for tool in ("ruff check", "ruff format --check"):
        make_line = next(line for line in makefile.splitlines() if f"-m {tool} " in line)
        expected.append(f".venv/bin/{tool} {make_line.split(f'-m {tool} ', 1)[1]}")
    assert entries == [*expected, ".venv/bin/mypy"]
    assert config.count("- repo: local") == 1 and "rev:" not in config
    assert config.count("language: unsupported") == config.count("pass_filenames: false") == 3
