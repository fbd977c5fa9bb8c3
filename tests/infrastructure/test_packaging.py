"""The Lambda artifact builder: what goes in each of the two artifacts, determinism, Lambda's
size limits, and their agreement with the Terraform that deploys them.

These build the project's own code (no pip install, no network); `make package` does the
full build with the dependencies, through the same functions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
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
    LOCK_FILE,
    TRANSFORMER_DIR,
    TRANSFORMER_READER,
    Artifact,
    BuildOptions,
    MissingDataError,
    PackageTooLargeError,
    build_package,
    project_contents,
    project_files,
    runtime_requirements,
)
from infrastructure.packaging.closure import (
    FORBIDDEN_PACKAGES,
    ForbiddenImportError,
    import_closure,
)
from infrastructure.packaging.pins import requirement_name
from tests.infrastructure.hcl import TERRAFORM, blocks, load, locals_of

pytestmark = pytest.mark.infrastructure


HANDLER = "def handler(event, context):\n    return {}\n"


def fake_project(root: Path) -> Path:
    """A small tree with what must go in and what must stay out: five handlers whose imports
    reach the ticker list, the linear model and (analysis) the transformer, and beside them
    training code, the local runtime, analytics, a cache and a test folder."""
    files = {
        "pyproject.toml": (
            '[project]\nname = "x"\ndependencies = ["boto3>=1", "httpx>=0.27"]\n'
            "[project.optional-dependencies]\n"
            'model = ["onnxruntime>=1.17", "tokenizers>=0.19"]\n'
            'local = ["x[model]", "panel>=1.5"]\n'
        ),
        "services/__init__.py": "",
        "services/functions/__init__.py": "",
        "services/functions/ingestion.py": "from services.market import universe\n" + HANDLER,
        "services/functions/dashboard.py": HANDLER,
        "services/functions/notification.py": HANDLER,
        "services/functions/metrics.py": HANDLER,
        "services/functions/analysis.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from services.local import stack\n"
            "def handler(event, context):\n    from services.scoring import transformer\n"
        ),
        "services/market/__init__.py": "",
        "services/market/universe.py": "from services.scoring.text_model import load\n",
        "services/market/data/tickers.csv": "symbol\nAAPL\n",
        "services/scoring/__init__.py": "",
        "services/scoring/text_model.py": "def load():\n    pass\n",
        "services/scoring/transformer.py": "",
        "services/scoring/model/weights.npz": "npz",
        "services/scoring/model/metadata.json": "{}",
        "services/scoring/model/reliability.svg": "<svg/>",
        "services/scoring/MODEL_CARD.md": "# card\n",
        f"{TRANSFORMER_DIR}/model.int8.onnx": "onnx",
        f"{TRANSFORMER_DIR}/tokenizer.json": "{}",
        f"{TRANSFORMER_DIR}/metadata.json": "{}",
        "services/scoring/training/data/train.csv": "text,label\n",
        "services/scoring/training/train.py": "",
        "services/local/__init__.py": "",
        "services/local/stack.py": "",
        "services/analytics/__init__.py": "import pandas\n",
        "services/functions/__pycache__/ingestion.cpython-311.pyc": "",
        "services/store/tests/test_x.py": "",
        "tests/test_y.py": "",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


SHARED_FILES = [
    "services/__init__.py",
    "services/functions/__init__.py",
    "services/functions/dashboard.py",
    "services/functions/ingestion.py",
    "services/functions/metrics.py",
    "services/functions/notification.py",
    "services/market/__init__.py",
    "services/market/data/tickers.csv",
    "services/market/universe.py",
    "services/scoring/__init__.py",
    "services/scoring/model/metadata.json",
    "services/scoring/model/weights.npz",
    "services/scoring/text_model.py",
]


def test_project_files_are_the_handlers_closure_and_the_data_it_reads(tmp_path: Path) -> None:
    # Only what the four handlers import (and their packages' __init__), plus the ticker list
    # and the linear model their modules read; no training, local runtime, analytics, model
    # documentation, cache or tests.
    root = fake_project(tmp_path / "repo")
    assert sorted(project_files(root)) == SHARED_FILES


def test_the_analysis_closure_follows_deferred_imports_and_skips_type_checking(
    tmp_path: Path,
) -> None:
    # analysis imports the transformer inside its handler (it runs in AWS: it ships) and
    # services.local under TYPE_CHECKING (it never runs: it stays out), and carries the model.
    root = fake_project(tmp_path / "repo")
    assert sorted(project_files(root, ANALYSIS)) == [
        "services/__init__.py",
        "services/functions/__init__.py",
        "services/functions/analysis.py",
        "services/scoring/__init__.py",
        f"{TRANSFORMER_DIR}/metadata.json",
        f"{TRANSFORMER_DIR}/model.int8.onnx",
        f"{TRANSFORMER_DIR}/tokenizer.json",
        "services/scoring/transformer.py",
    ]


def test_an_import_of_a_package_that_must_not_ship_fails_the_build_naming_the_chain(
    tmp_path: Path,
) -> None:
    root = fake_project(tmp_path / "repo")
    (root / "services/scoring/text_model.py").write_text(
        "def load():\n    from services.analytics import frames\n"
    )
    (root / "services/analytics/frames.py").write_text("")
    with pytest.raises(ForbiddenImportError) as refused:
        build_package(
            BuildOptions(root=root, output=tmp_path / "a.zip", include_dependencies=False)
        )
    message = str(refused.value)
    assert "services.analytics (offline analysis on pandas" in message
    assert (
        "services.functions.ingestion -> services.market.universe -> "
        "services.scoring.text_model -> services.analytics" in message
    )
    assert not (tmp_path / "a.zip").exists()


def test_the_closure_resolves_relative_imports_and_submodules_named_by_from_imports(
    tmp_path: Path,
) -> None:
    root = fake_project(tmp_path / "repo")
    (root / "services/functions/metrics.py").write_text(
        "from . import dashboard\nfrom services.store import tokens as t\n" + HANDLER
    )
    (root / "services/store/__init__.py").write_text("")
    (root / "services/store/tokens.py").write_text("from .keys import build\n")
    (root / "services/store/keys.py").write_text("")
    closure = import_closure(root, ["services.functions.metrics"])
    assert set(closure.modules) >= {
        "services.functions.dashboard",
        "services.store.tokens",
        "services.store.keys",
    }
    assert closure.chain("services.store.keys") == [
        "services.functions.metrics",
        "services.store.tokens",
        "services.store.keys",
    ]
    assert "services.store.tests" not in closure.modules


def test_a_missing_file_the_code_reads_fails_the_build(tmp_path: Path) -> None:
    root = fake_project(tmp_path / "repo")
    (root / "services/market/data/tickers.csv").unlink()
    with pytest.raises(MissingDataError, match=r"services/market/data/tickers\.csv"):
        project_files(root)


def test_the_repository_artifacts_hold_every_handler_and_the_linear_model_but_not_local(
    root: Path,
) -> None:
    shared = project_contents(root, LAMBDA)
    analysis = project_contents(root, ANALYSIS)
    for function in LAMBDA.functions:
        assert f"services/functions/{function}.py" in shared.files
    assert "services/functions/analysis.py" in analysis.files
    for contents in (shared, analysis):
        assert "services/scoring/model/weights.npz" in contents.files
        assert "services/market/data/tickers.csv" in contents.files
        assert not any(
            m.startswith((*FORBIDDEN_PACKAGES, "workbench")) for m in contents.modules
        ), contents.modules
    assert not any(n.startswith(f"{TRANSFORMER_DIR}/") for n in shared.files)
    assert f"{TRANSFORMER_DIR}/model.int8.onnx" in analysis.files
    assert "services/scoring/MODEL_CARD.md" not in {*shared.files, *analysis.files}


READS_FILES = re.compile(r"resources\.files\(|__file__")


def test_every_module_of_the_closure_that_reads_a_file_declares_what_it_reads(
    root: Path,
) -> None:
    # A module that opens a file of its package must list it in RUNTIME_DATA (or be the
    # transformer, whose files the analysis artifact adds), or the artifact would lack it.
    entry_points = [m for artifact in ARTIFACTS.values() for m in artifact.entry_points]
    closure = import_closure(root, entry_points)
    readers = {
        module
        for module, path in closure.files.items()
        if READS_FILES.search(path.read_text(encoding="utf-8"))
    }
    assert readers <= {*packaging.RUNTIME_DATA, TRANSFORMER_READER}, readers


def test_terraform_handlers_are_the_modules_the_closure_starts_from(root: Path) -> None:
    handlers = locals_of(load(root / TERRAFORM / "modules" / "lambda" / "main.tf"))["handlers"]
    for artifact in ARTIFACTS.values():
        for function, module in zip(artifact.functions, artifact.entry_points, strict=True):
            assert handlers[function] == f"{module}.handler"


@pytest.mark.parametrize("artifact", ARTIFACTS.values(), ids=ARTIFACTS.keys())
def test_each_handler_imports_from_its_artifact_alone(
    root: Path, tmp_path: Path, artifact: Artifact
) -> None:
    # The project's half of the artifact, unpacked, in a fresh interpreter that finds
    # `services` there first: an import the closure missed (a module computed at run time)
    # would fail here. Third-party packages come from this environment.
    build_package(
        BuildOptions(
            root=root,
            output=tmp_path / "a.zip",
            artifact=artifact,
            include_dependencies=False,
        )
    )
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        archive.extractall(unpacked)
    code = (
        "import importlib, json, sys, services\n"
        f"for module in {artifact.entry_points!r}:\n"
        "    importlib.import_module(module)\n"
        "print(json.dumps(services.__file__))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=unpacked,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]).startswith(str(unpacked))


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
    assert report.files == len(SHARED_FILES) and report.within_limits
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
    names = {requirement_name(r) for r in runtime_requirements(root)}
    assert names.isdisjoint(requirement_name(r) for r in model)


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

    monkeypatch.setattr(subprocess, "run", fake_run)
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
            name = requirement_name(requirement).replace("-", "_")
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
    monkeypatch.setattr(subprocess, "run", _fake_pip(calls))
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


def test_make_package_installs_the_wheels_at_the_lock_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a lock at the root with a pin of the shared artifact's own, When `make package`
    # builds, Then each artifact's pip gets the lock's versions (its own where it has them)
    # as constraints and the manifest names the lock; --no-lock resolves from the ranges.
    root = fake_project(tmp_path / "repo")
    (root / LOCK_FILE).write_text("httpx==1.0\nnumpy==2.4.6\n# [lambda] numpy==2.2.6\n")
    calls: list[list[str]] = []
    constraints: list[str] = []
    record = _fake_pip(calls)

    def run(command: list[str], check: bool) -> None:
        if "--constraint" in command:
            constraints.append(Path(command[command.index("--constraint") + 1]).read_text())
        record(command, check)

    monkeypatch.setattr(subprocess, "run", run)
    out = tmp_path / "build"
    assert package_main(["--root", str(root), "--output-dir", str(out)]) == 0
    assert constraints == ["httpx==1.0\nnumpy==2.2.6\n", "httpx==1.0\nnumpy==2.4.6\n"]
    manifest = json.loads((out / "lambda.json").read_text())
    assert manifest["constraints"] == LOCK_FILE and manifest["distributions"] == {"httpx": "1.0"}
    assert manifest["top_level"] == ["httpx", "services"]
    args = ["--root", str(root), "--output-dir", str(tmp_path / "b"), "--artifact", "lambda"]
    assert package_main([*args, "--no-lock"]) == 0
    assert "--constraint" not in calls[-1]


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
