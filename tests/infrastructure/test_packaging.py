"""The Lambda artifact builder: what goes in, determinism, Lambda's size limits.

These build the project's own code (no pip install, no network); `make package` does the
full build with the dependencies, through the same functions.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
import zipfile
from pathlib import Path

import pytest

from infrastructure.packaging import build as packaging
from infrastructure.packaging.build import (
    BuildOptions,
    PackageTooLargeError,
    build_package,
    project_files,
    runtime_requirements,
)

pytestmark = pytest.mark.infrastructure


def fake_project(root: Path) -> Path:
    """A small tree with what must go in and what must stay out."""
    files = {
        "pyproject.toml": '[project]\nname = "x"\ndependencies = ["boto3>=1", "httpx>=0.27"]\n',
        "services/__init__.py": "",
        "services/functions/ingestion.py": "def handler(event, context):\n    return {}\n",
        "services/scoring/model/weights.json": "{}",
        "services/scoring/training/data/train.csv": "text,label\n",
        "services/scoring/training/train.py": "",
        "services/local/stack.py": "",
        "services/functions/__pycache__/ingestion.cpython-311.pyc": "",
        "services/store/tests/test_x.py": "",
        "tests/test_y.py": "",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_project_files_exclude_local_runtime_training_and_tests(tmp_path: Path) -> None:
    root = fake_project(tmp_path / "repo")
    assert sorted(project_files(root)) == [
        "services/__init__.py",
        "services/functions/ingestion.py",
        "services/scoring/model/weights.json",
    ]


def test_the_repository_artifact_holds_every_handler_and_the_model_but_not_local(
    root: Path,
) -> None:
    names = set(project_files(root))
    for function in ("ingestion", "analysis", "dashboard"):
        assert f"services/functions/{function}.py" in names
    assert any(n.startswith("services/scoring/model/") for n in names)
    assert not any(n.startswith(("services/local/", "services/scoring/training/")) for n in names)


def test_two_builds_of_the_repository_code_are_byte_identical(root: Path, tmp_path: Path) -> None:
    first = build_package(
        BuildOptions(root=root, output=tmp_path / "a.zip", include_dependencies=False)
    )
    second = build_package(
        BuildOptions(root=root, output=tmp_path / "b.zip", include_dependencies=False)
    )
    assert first.sha256 == second.sha256
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert first.sha256 == hashlib.sha256((tmp_path / "a.zip").read_bytes()).hexdigest()


def test_a_rebuild_after_files_are_touched_hashes_the_same(tmp_path: Path) -> None:
    # Given a build, When every file gets new timestamps (a fresh checkout, a touch), Then
    # the rebuild is the same bytes: times, order and modes are fixed in the zip.
    root = fake_project(tmp_path / "repo")
    first = build_package(
        BuildOptions(root=root, output=tmp_path / "a.zip", include_dependencies=False)
    )
    for path in project_files(root).values():
        os.utime(path, (1_900_000_000, 1_900_000_000))
        path.chmod(0o600)
    second = build_package(
        BuildOptions(root=root, output=tmp_path / "b.zip", include_dependencies=False)
    )
    assert first.sha256 == second.sha256


def test_zip_entries_are_sorted_with_fixed_times_and_modes(tmp_path: Path) -> None:
    root = fake_project(tmp_path / "repo")
    report = build_package(
        BuildOptions(root=root, output=tmp_path / "out.zip", include_dependencies=False)
    )
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
        assert archive.testzip() is None
    assert report.files == 3 and report.within_limits
    assert report.unzipped_bytes == sum(i.file_size for i in infos)


def test_a_package_over_lambda_limits_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = fake_project(tmp_path / "repo")
    monkeypatch.setattr(packaging, "LAMBDA_UNZIPPED_LIMIT", 10)
    with pytest.raises(PackageTooLargeError, match="unzipped"):
        build_package(
            BuildOptions(root=root, output=tmp_path / "big.zip", include_dependencies=False)
        )


def test_runtime_requirements_are_pyproject_dependencies_less_the_runtime_boto3(
    root: Path,
) -> None:
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    bundled = runtime_requirements(root)
    assert [r for r in declared if not r.startswith("boto3")] == bundled
    assert runtime_requirements(root, exclude_runtime_provided=False) == declared


def test_dependency_install_asks_pip_for_lambda_platform_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The full build's pip call, recorded instead of run: manylinux wheels for CPython 3.11,
    # binary only, into the staging directory, for the non-runtime dependencies.
    root = fake_project(tmp_path / "repo")
    calls: list[list[str]] = []

    def fake_run(command: list[str], check: bool) -> None:
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "httpx-0.28.1.dist-info").mkdir(parents=True)
        (target / "httpx-0.28.1.dist-info" / "METADATA").write_text("Name: httpx\n")
        (target / "httpx").mkdir()
        (target / "httpx" / "__init__.py").write_text("")

    monkeypatch.setattr(packaging.subprocess, "run", fake_run)
    report = build_package(BuildOptions(root=root, output=tmp_path / "full.zip", pip=("pip",)))
    (command,) = calls
    assert command[-1] == "httpx>=0.27" and "boto3>=1" not in command
    for flag, value in (("--platform", "manylinux2014_x86_64"), ("--python-version", "3.11")):
        assert command[command.index(flag) + 1] == value
    assert "--only-binary=:all:" in command and "--no-compile" in command
    assert report.distributions == {"httpx": "0.28.1"}
    with zipfile.ZipFile(tmp_path / "full.zip") as archive:
        assert "httpx/__init__.py" in archive.namelist()
