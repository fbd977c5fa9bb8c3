"""The Lambda artifact builder: what goes in each of the two artifacts, determinism, Lambda's
size limits, and their agreement with the Terraform that deploys them.

These build the project's own code (no pip install, no network); `make package` does the
full build with the dependencies, through the same functions.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from infrastructure.packaging import build as packaging
from infrastructure.packaging.__main__ import main as package_main
from infrastructure.packaging.build import (
    ANALYSIS,
    ARTIFACTS,
    LAMBDA,
    TRANSFORMER_DIR,
    BuildOptions,
    PackageTooLargeError,
    build_package,
    project_files,
    runtime_requirements,
)
from tests.infrastructure.hcl import TERRAFORM, blocks, load, locals_of

pytestmark = pytest.mark.infrastructure


def fake_project(root: Path) -> Path:
    """A small tree with what must go in and what must stay out."""
    files = {
        "pyproject.toml": (
            '[project]\nname = "x"\ndependencies = ["boto3>=1", "httpx>=0.27"]\n'
            "[project.optional-dependencies]\n"
            'model = ["onnxruntime>=1.17", "tokenizers>=0.19"]\n'
            'local = ["x[model]", "panel>=1.5"]\n'
        ),
        "services/__init__.py": "",
        "services/functions/ingestion.py": "def handler(event, context):\n    return {}\n",
        "services/scoring/model/weights.json": "{}",
        f"{TRANSFORMER_DIR}/model.int8.onnx": "onnx",
        f"{TRANSFORMER_DIR}/tokenizer.json": "{}",
        f"{TRANSFORMER_DIR}/metadata.json": "{}",
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


def test_only_the_analysis_artifact_carries_the_transformer_model(tmp_path: Path) -> None:
    root = fake_project(tmp_path / "repo")
    shared = set(project_files(root))
    analysis = set(project_files(root, with_transformer=True))
    assert analysis - shared == {
        f"{TRANSFORMER_DIR}/model.int8.onnx",
        f"{TRANSFORMER_DIR}/tokenizer.json",
        f"{TRANSFORMER_DIR}/metadata.json",
    }


def test_the_repository_artifacts_hold_every_handler_and_the_linear_model_but_not_local(
    root: Path,
) -> None:
    names = set(project_files(root))
    for function in ("ingestion", "analysis", "dashboard"):
        assert f"services/functions/{function}.py" in names
    assert "services/scoring/model/weights.npz" in names
    assert not any(n.startswith(f"{TRANSFORMER_DIR}/") for n in names)
    assert not any(n.startswith(("services/local/", "services/scoring/training/")) for n in names)
    with_model = set(project_files(root, with_transformer=True))
    assert not any(
        n.startswith(("services/local/", "services/scoring/training/")) for n in with_model
    )


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


def test_the_analysis_artifact_adds_the_model_extra_and_the_shared_one_does_not(root: Path) -> None:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    model = [str(r) for r in project["optional-dependencies"]["model"]]
    assert ANALYSIS.extras == ("model",) and LAMBDA.extras == ()
    assert runtime_requirements(root, extras=ANALYSIS.extras) == runtime_requirements(root) + model
    names = {packaging._requirement_name(r) for r in runtime_requirements(root)}
    assert names.isdisjoint(packaging._requirement_name(r) for r in model)


def test_extras_expand_self_references_and_unknown_extras_are_refused(tmp_path: Path) -> None:
    root = fake_project(tmp_path / "repo")
    assert runtime_requirements(root, extras=("local",)) == [
        "httpx>=0.27",
        "onnxruntime>=1.17",
        "tokenizers>=0.19",
        "panel>=1.5",
    ]
    assert runtime_requirements(root, extras=("model", "local"))[-1] == "panel>=1.5"
    with pytest.raises(ValueError, match="'gpu'"):
        runtime_requirements(root, extras=("gpu",))


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


def _fake_pip(calls: list[list[str]]) -> Callable[[list[str], bool], None]:
    """A pip that records its command and installs one distribution per requirement."""

    def run(command: list[str], check: bool) -> None:
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        for requirement in command[command.index("--only-binary=:all:") + 1 :]:
            name = packaging._requirement_name(requirement).replace("-", "_")
            (target / f"{name}-1.0.dist-info").mkdir(parents=True)
            (target / f"{name}-1.0.dist-info" / "METADATA").write_text(f"Name: {name}\n")
            (target / name).mkdir()
            (target / name / "__init__.py").write_text("")

    return run


def test_the_analysis_build_installs_the_model_extra_for_python312_and_goes_through_s3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a zipped limit no artifact meets, When both are built with a recording pip, Then
    # the shared one is refused and the analysis one (S3 upload) is not; its pip call asks
    # for the model extra as manylinux_2_28 (or older) wheels for CPython 3.12.
    root = fake_project(tmp_path / "repo")
    calls: list[list[str]] = []
    monkeypatch.setattr(packaging.subprocess, "run", _fake_pip(calls))
    monkeypatch.setattr(packaging, "LAMBDA_ZIPPED_LIMIT", 10)
    with pytest.raises(PackageTooLargeError, match="zipped"):
        build_package(BuildOptions(root=root, output=tmp_path / "lambda.zip", pip=("pip",)))
    report = build_package(
        BuildOptions(root=root, output=tmp_path / "a.zip", artifact=ANALYSIS, pip=("pip",))
    )
    command = calls[-1]
    platforms = [command[i + 1] for i, flag in enumerate(command) if flag == "--platform"]
    assert platforms == ["manylinux_2_28_x86_64", "manylinux2014_x86_64"]
    assert command[command.index("--python-version") + 1] == "3.12"
    assert command[-3:] == ["httpx>=0.27", "onnxruntime>=1.17", "tokenizers>=0.19"]
    assert "onnxruntime>=1.17" not in calls[0]
    assert report.within_limits and report.upload == "s3" and report.functions == ("analysis",)
    assert set(report.distributions) == {"httpx", "onnxruntime", "tokenizers"}
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert f"{TRANSFORMER_DIR}/model.int8.onnx" in archive.namelist()


def test_the_analysis_artifact_is_refused_without_the_transformer_model(tmp_path: Path) -> None:
    root = fake_project(tmp_path / "repo")
    (root / TRANSFORMER_DIR / "model.int8.onnx").unlink()
    with pytest.raises(FileNotFoundError, match=r"model\.int8\.onnx"):
        build_package(
            BuildOptions(
                root=root, output=tmp_path / "a.zip", artifact=ANALYSIS, include_dependencies=False
            )
        )


def test_make_package_writes_both_artifacts_and_their_manifests(tmp_path: Path) -> None:
    root = fake_project(tmp_path / "repo")
    out = tmp_path / "build"
    assert package_main(["--root", str(root), "--output-dir", str(out), "--no-dependencies"]) == 0
    for artifact in ARTIFACTS.values():
        manifest = json.loads((out / f"{artifact.name}.json").read_text())
        assert manifest["functions"] == list(artifact.functions)
        assert (
            manifest["sha256"]
            == hashlib.sha256((out / f"{artifact.name}.zip").read_bytes()).hexdigest()
        )
    with zipfile.ZipFile(out / "lambda.zip") as archive:
        assert not any(n.startswith(TRANSFORMER_DIR) for n in archive.namelist())
    # Without the model, the shared artifact is still built and the command fails.
    (root / TRANSFORMER_DIR / "tokenizer.json").unlink()
    assert (
        package_main(
            ["--root", str(root), "--output-dir", str(tmp_path / "b"), "--no-dependencies"]
        )
        == 1
    )
    assert (tmp_path / "b" / "lambda.zip").exists()
    assert not (tmp_path / "b" / "lambda-analysis.zip").exists()


def test_terraform_deploys_each_function_from_its_artifact_on_the_matching_runtime(
    root: Path,
) -> None:
    # Every function comes from exactly one artifact; analysis from the S3 object of the
    # analysis zip, on the Python its wheels were built for; the rest from build/lambda.zip.
    served = [f for artifact in ARTIFACTS.values() for f in artifact.functions]
    parsed = load(root / TERRAFORM / "modules" / "lambda" / "main.tf")
    assert sorted(served) == sorted(locals_of(parsed)["handlers"])
    assert locals_of(parsed)["runtimes"] == {"analysis": f"python{ANALYSIS.python_version}"}
    resources = blocks(parsed, "resource")
    function = resources["aws_lambda_function"]["this"]
    assert (
        function["runtime"]
        == f'${{lookup(local.runtimes, each.key, "python{LAMBDA.python_version}")}}'
    )
    assert function["filename"] == '${each.key == "analysis" ? null : var.package_path}'
    assert "aws_s3_object.analysis.key" in function["s3_key"]
    assert "local.analysis_package_hash" in function["source_code_hash"]
    assert resources["aws_s3_object"]["analysis"]["source"] == "${var.analysis_package_path}"
    env = load(root / TERRAFORM / "envs" / "dev" / "main.tf")
    paths = locals_of(env)
    assert paths["package_path"].endswith(f'build/{LAMBDA.name}.zip")}}')
    assert paths["analysis_package_path"].endswith(f'build/{ANALYSIS.name}.zip")}}')


MODEL_RUNTIME = ("onnxruntime", "tokenizers", "services.scoring.transformer")


@pytest.mark.parametrize("function", LAMBDA.functions)
def test_functions_of_the_shared_artifact_import_no_model_runtime(
    root: Path, function: str
) -> None:
    # The shared artifact has no onnxruntime or tokenizers: a function importing them would
    # fail in AWS. The dashboard (128 MB, 1 s cold import) loads no numpy either.
    forbidden = (*MODEL_RUNTIME, "numpy") if function == "dashboard" else MODEL_RUNTIME
    code = (
        "import json, sys\n"
        f"import services.functions.{function}\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({forbidden!r}))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=120,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
