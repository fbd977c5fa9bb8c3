"""The Lambda artifacts: `services/` and its runtime dependencies in deterministic zips.

Two artifacts (`ARTIFACTS`). `lambda` serves ingestion, dashboard, notification and metrics:
the code their handlers import and the wheels of `[project].dependencies`. `lambda-analysis`
serves the analysis function: the code its handler imports, the transformer model
(`services/scoring/model/transformer/`) and the wheels of `[project].dependencies` and of
pyproject's `model` extra (onnxruntime, tokenizers). onnxruntime publishes
manylinux_2_27/2_28 wheels only, which Amazon Linux 2 (glibc 2.26, the python3.11 runtime)
cannot load; the analysis artifact is therefore built for python3.12 (Amazon Linux 2023,
glibc 2.34), the runtime Terraform gives that function. It is over the 50 MB of a direct
upload, so Terraform deploys it through S3 (`upload="s3"`); 250 MB unzipped holds for both.

Deterministic means that the same sources and the same resolved wheels give the same bytes:
entries sorted by path, every timestamp fixed, every mode fixed, no `__pycache__`, no
compiled files. Two builds can therefore be compared by hash, and `source_code_hash` in
Terraform only changes when the code or a dependency does.

What goes in: of the project, the import closure of the artifact's handlers (`closure.py`:
every module of `services/` they import, directly or not, and nothing else) and the data
files those modules read at run time (`RUNTIME_DATA`; the transformer model only in the
artifact that asks for it). The build fails when the closure reaches a package that must not
ship (`services.analytics`, `services.costs`, `services.traffic`, `services.local`, the
training code), naming the import chain. Then, unless `include_dependencies` is off, the
wheels of `[project].dependencies` and of the artifact's extras for its Lambda platform
(manylinux, its CPython version), installed with pip into a staging directory at the
versions of the lock (`constraints.txt`, made by `make lock`) when one is given: the lock's
pins, or the artifact's own where its platform has no wheel of the lock's version
(`platform_caps`, `pins.py`). boto3 and its family are left out by default: the Lambda
Python runtime provides them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from infrastructure.packaging.closure import check_closure, handler_module, import_closure
from infrastructure.packaging.pins import constraint_lines, pins_for_artifact, requirement_name

# Lambda's limits for a zip deployment (AWS Lambda quotas, "Deployment package (.zip file
# archive) size"): 50 MB zipped for a direct upload, 250 MB unzipped.
LAMBDA_ZIPPED_LIMIT = 50 * 1024 * 1024
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024

# Zip's epoch: the earliest timestamp a zip entry can carry.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644

# The transformer tier's files, read by TRANSFORMER_READER: in the analysis artifact only.
TRANSFORMER_READER = "services.scoring.transformer"
TRANSFORMER_DIR = "services/scoring/model/transformer"
TRANSFORMER_FILES = ("model.int8.onnx", "tokenizer.json", "metadata.json")
# Files the code reads at run time, by the module that reads them: each ships when its reader
# is in the closure. The rest of the model folder (MODEL_CARD.md, reliability.svg,
# alternatives.json) documents the model and is never read by a function.
RUNTIME_DATA: dict[str, tuple[str, ...]] = {
    "services.scoring.text_model": (
        "services/scoring/model/weights.npz",
        "services/scoring/model/metadata.json",
    ),
    "services.market.universe": ("services/market/data/tickers.csv",),
    "services.ops.model_card": ("services/scoring/model/card.json",),
}
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
# The lock `make lock` writes: pinned versions of every distribution, Lambda wheels included.
LOCK_FILE = "constraints.txt"
# Provided by the Lambda Python runtime (and large: botocore alone is tens of megabytes).
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})


class PackageTooLargeError(RuntimeError):
    """The artifact exceeds one of Lambda's size limits."""


class MissingDataError(FileNotFoundError):
    """A file the artifact's code reads at run time is missing from the repository."""


@dataclass(frozen=True)
class Artifact:
    """One deployment zip: its name (build/<name>.zip), the functions Terraform deploys from
    it, what it adds to the shared sources, the runtime its wheels are for, and how it is
    uploaded (`direct`: 50 MB zipped at most; `s3`: only the 250 MB unzipped limit)."""

    name: str
    functions: tuple[str, ...]
    extras: tuple[str, ...] = ()
    with_transformer: bool = False
    python_version: str = "3.11"
    platforms: tuple[str, ...] = ("manylinux2014_x86_64",)
    upload: Literal["direct", "s3"] = "direct"
    # Ranges the platform's wheels impose on top of pyproject's: `make lock` resolves the
    # artifact within them and records its own pin where the lock's has no wheel for it.
    platform_caps: tuple[str, ...] = ()

    @property
    def entry_points(self) -> tuple[str, ...]:
        """The modules of its functions' handlers, where the import closure starts."""
        return tuple(handler_module(function) for function in self.functions)


LAMBDA = Artifact(
    "lambda",
    functions=("ingestion", "dashboard", "notification", "metrics"),
    # numpy 2.3 and later publish manylinux_2_28 wheels only (glibc 2.28): Amazon Linux 2,
    # python3.11's, has glibc 2.26. Development keeps the newer numpy the lock pins.
    platform_caps=("numpy<2.3",),
)
ANALYSIS = Artifact(
    "lambda-analysis",
    functions=("analysis",),
    extras=("model",),
    with_transformer=True,
    python_version="3.12",
    # Amazon Linux 2023 (glibc 2.34) runs both; pip does not widen manylinux_2_28 by itself.
    platforms=("manylinux_2_28_x86_64", "manylinux2014_x86_64"),
    upload="s3",
)
ARTIFACTS = {"lambda": LAMBDA, "analysis": ANALYSIS}


@dataclass(frozen=True)
class BuildOptions:
    """How to build. `root` is the repository (the directory holding pyproject.toml)."""

    root: Path
    output: Path
    include_dependencies: bool = True
    artifact: Artifact = LAMBDA
    exclude_runtime_provided: bool = True
    constraints: Path | None = None
    pip: Sequence[str] = field(default_factory=lambda: (sys.executable, "-m", "pip"))


@dataclass(frozen=True)
class BuildReport:
    """What was built: where, its hash, its sizes and what it holds."""

    path: str
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    distributions: dict[str, str]
    functions: tuple[str, ...] = LAMBDA.functions
    python_version: str = LAMBDA.python_version
    upload: Literal["direct", "s3"] = "direct"
    # What the manifest adds to the sizes: the project modules of the closure, the top-level
    # names of the zip (packages and modules), and the lock the wheels were pinned by.
    modules: tuple[str, ...] = ()
    top_level: tuple[str, ...] = ()
    constraints: str | None = None

    @property
    def within_limits(self) -> bool:
        zipped_ok = self.upload == "s3" or self.zipped_bytes <= LAMBDA_ZIPPED_LIMIT
        return zipped_ok and self.unzipped_bytes <= LAMBDA_UNZIPPED_LIMIT

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "within_limits": self.within_limits}, indent=2)


def _extra_requirements(project: dict[str, Any], extra: str, seen: frozenset[str]) -> list[str]:
    """The requirements of one extra; a self-reference (`name[other]`) expands `other`."""
    groups = project.get("optional-dependencies", {})
    if extra not in groups:
        raise ValueError(f"pyproject.toml has no optional dependencies named {extra!r}")
    own_name = requirement_name(project["name"])
    found: list[str] = []
    for requirement in map(str, groups[extra]):
        if requirement_name(requirement) != own_name:
            found.append(requirement)
            continue
        inner = re.search(r"\[([^\]]*)\]", requirement)
        for name in inner.group(1).split(",") if inner else []:
            if name.strip() not in seen:
                found += _extra_requirements(project, name.strip(), seen | {extra})
    return found


def runtime_requirements(
    root: Path, *, exclude_runtime_provided: bool = True, extras: Sequence[str] = ()
) -> list[str]:
    """`[project].dependencies` of pyproject.toml and those of `extras`, in order and without
    repeats, less what the Lambda runtime provides."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    requirements = [str(r) for r in project.get("dependencies", [])]
    for extra in extras:
        requirements += _extra_requirements(project, extra, frozenset())
    requirements = list(dict.fromkeys(requirements))
    if not exclude_runtime_provided:
        return requirements
    return [r for r in requirements if requirement_name(r) not in RUNTIME_PROVIDED]


@dataclass(frozen=True)
class ProjectContents:
    """The project's part of an artifact: archive name -> file, and the closure's modules."""

    files: dict[str, Path]
    modules: tuple[str, ...]


def _archive_name(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def runtime_data_files(root: Path, modules: Iterable[str]) -> list[str]:
    """The data files the given modules read at run time; MissingDataError if one is absent."""
    names = sorted({name for module in modules for name in RUNTIME_DATA.get(module, ())})
    missing = [name for name in names if not (root / name).is_file()]
    if missing:
        raise MissingDataError(
            f"{', '.join(missing)} missing: the functions read them at run time "
            "(services/scoring/model/ comes from `make model`)"
        )
    return names


def check_transformer_files(root: Path) -> None:
    """Raise FileNotFoundError unless the transformer model's files are all present."""
    missing = [name for name in TRANSFORMER_FILES if not (root / TRANSFORMER_DIR / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{TRANSFORMER_DIR}/ lacks {', '.join(missing)}: the analysis artifact carries the "
            "transformer model (train it with `make model`)"
        )


def project_contents(root: Path, artifact: Artifact = LAMBDA) -> ProjectContents:
    """The closure of the artifact's handlers and its data files; ForbiddenImportError when
    the closure reaches a package that must not ship."""
    closure = import_closure(root, artifact.entry_points)
    check_closure(closure, artifact.name)
    files = {_archive_name(root, path): path for path in closure.files.values()}
    for name in runtime_data_files(root, closure.modules):
        files[name] = root / name
    if artifact.with_transformer:
        check_transformer_files(root)
        for name in TRANSFORMER_FILES:
            files[f"{TRANSFORMER_DIR}/{name}"] = root / TRANSFORMER_DIR / name
    return ProjectContents(files=dict(sorted(files.items())), modules=closure.modules)


def project_files(root: Path, artifact: Artifact = LAMBDA) -> dict[str, Path]:
    """Archive name -> file of every project file that goes into the artifact."""
    return project_contents(root, artifact).files


def _dependency_files(staging: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for path in sorted(staging.rglob("*")):
        relative = path.relative_to(staging)
        if path.is_file() and not (
            "__pycache__" in relative.parts or relative.as_posix().endswith(EXCLUDED_SUFFIXES)
        ):
            files[relative.as_posix()] = path
    return files


def lambda_platform_flags(artifact: Artifact) -> list[str]:
    """pip's options selecting wheels for the artifact's Lambda runtime, not this machine."""
    platforms = [flag for platform in artifact.platforms for flag in ("--platform", platform)]
    return [
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        artifact.python_version,
        "--only-binary=:all:",
    ]


def install_dependencies(options: BuildOptions, staging: Path) -> None:
    """pip-install the artifact's requirements as Lambda-platform wheels into `staging`."""
    artifact = options.artifact
    requirements = runtime_requirements(
        options.root,
        exclude_runtime_provided=options.exclude_runtime_provided,
        extras=artifact.extras,
    )
    command = [
        *options.pip,
        "install",
        "--quiet",
        "--disable-pip-version-check",
        # The target is not this environment: conflicts with what is installed here are noise.
        "--no-warn-conflicts",
        "--no-compile",
        "--target",
        str(staging),
    ]
    if options.constraints is not None:
        # The lock's versions (the artifact's own pins where it has them): the wheels are
        # those the tests ran against.
        pins = pins_for_artifact(options.constraints.read_text(encoding="utf-8"), artifact.name)
        constraints = staging.parent / f"{artifact.name}-constraints.txt"
        constraints.write_text(constraint_lines(pins), encoding="utf-8")
        command += ["--constraint", str(constraints)]
    command += lambda_platform_flags(artifact)
    subprocess.run([*command, *requirements], check=True)
    # pip adds its own bookkeeping of the target install; it is not part of the artifact.
    shutil.rmtree(staging / "bin", ignore_errors=True)


def installed_distributions(files: Iterable[str]) -> dict[str, str]:
    """Name -> version of each `*.dist-info` directory among the archive names."""
    found: dict[str, str] = {}
    for name in files:
        top = name.split("/", 1)[0]
        if top.endswith(".dist-info"):
            distribution, _, version = top.removesuffix(".dist-info").rpartition("-")
            found[distribution] = version
    return dict(sorted(found.items()))


def top_level_names(files: Iterable[str]) -> tuple[str, ...]:
    """The zip's top-level packages and modules (`typing_extensions`, `_cffi_backend`), and
    other top-level folders such as `numpy.libs`; distribution metadata left out."""
    names: set[str] = set()
    for name in files:
        top, _, rest = name.partition("/")
        if top.endswith(".dist-info"):
            continue
        # A file at the top is a module: `x.py` or an extension `x.cpython-311-....so`.
        names.add(top.split(".", 1)[0] if not rest else top)
    return tuple(sorted(names))


def write_deterministic_zip(entries: dict[str, Path], output: Path) -> tuple[int, int]:
    """Write `entries` (archive name -> file) sorted, with fixed times and modes.

    Returns (zipped bytes, unzipped bytes).
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    unzipped = 0
    partial = output.with_suffix(output.suffix + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(entries):
            data = entries[name].read_bytes()
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below is the one Lambda extracts
            info.external_attr = (0o100000 | FILE_MODE) << 16
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            unzipped += len(data)
    partial.replace(output)
    return output.stat().st_size, unzipped


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _constraints_name(options: BuildOptions) -> str | None:
    """The lock as the manifest names it: relative to the repository when inside it."""
    if options.constraints is None or not options.include_dependencies:
        return None
    path = options.constraints.resolve()
    root = options.root.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


def _collect_entries(options: BuildOptions, project: dict[str, Path], tmp: Path) -> dict[str, Path]:
    """The project's files plus, unless left out, the installed wheels' files."""
    if not options.include_dependencies:
        return project
    staging = tmp / "deps"
    install_dependencies(options, staging)
    dependencies = _dependency_files(staging)
    clash = sorted(set(dependencies) & set(project))
    if clash:
        raise RuntimeError(f"dependencies overwrite project files: {clash[:5]}")
    return {**dependencies, **project}


def build_package(options: BuildOptions) -> BuildReport:
    """Build the zip at `options.output`; raise PackageTooLargeError past Lambda's limits,
    ForbiddenImportError when the handlers import a package that must not ship, and
    FileNotFoundError when a file the code reads (or the transformer model) is missing."""
    artifact = options.artifact
    project = project_contents(options.root, artifact)
    with tempfile.TemporaryDirectory(prefix="lambda-build-") as tmp:
        entries = _collect_entries(options, project.files, Path(tmp))
        zipped, unzipped = write_deterministic_zip(entries, options.output)
    report = BuildReport(
        path=str(options.output),
        sha256=_sha256(options.output),
        zipped_bytes=zipped,
        unzipped_bytes=unzipped,
        files=len(entries),
        distributions=installed_distributions(entries),
        functions=artifact.functions,
        python_version=artifact.python_version,
        upload=artifact.upload,
        modules=project.modules,
        top_level=top_level_names(entries),
        constraints=_constraints_name(options),
    )
    if not report.within_limits:
        zipped_limit = "none: S3 upload" if artifact.upload == "s3" else LAMBDA_ZIPPED_LIMIT
        raise PackageTooLargeError(
            f"{options.output}: {zipped} bytes zipped (limit {zipped_limit}), "
            f"{unzipped} unzipped (limit {LAMBDA_UNZIPPED_LIMIT})"
        )
    return report
