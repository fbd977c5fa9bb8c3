"""The Lambda artifacts: `services/` and its runtime dependencies in deterministic zips.

Two artifacts (`ARTIFACTS`). `lambda` serves ingestion, dashboard, notification and metrics:
the sources and the wheels of `[project].dependencies`. `lambda-analysis` serves the analysis
function: the same sources plus the transformer model (`services/scoring/model/transformer/`)
and the wheels of pyproject's `model` extra (onnxruntime, tokenizers). onnxruntime publishes
manylinux_2_27/2_28 wheels only, which Amazon Linux 2 (glibc 2.26, the python3.11 runtime)
cannot load; the analysis artifact is therefore built for python3.12 (Amazon Linux 2023,
glibc 2.34), the runtime Terraform gives that function. It is over the 50 MB of a direct
upload, so Terraform deploys it through S3 (`upload="s3"`); 250 MB unzipped holds for both.

Deterministic means that the same sources and the same resolved wheels give the same bytes:
entries sorted by path, every timestamp fixed, every mode fixed, no `__pycache__`, no
compiled files. Two builds can therefore be compared by hash, and `source_code_hash` in
Terraform only changes when the code or a dependency does.

What goes in: every file of `services/` except the embedded local runtime (`services/local/`,
never imported in AWS), the model's training code and data (`services/scoring/training/`),
the traffic generator (a client, not a function) and, unless the artifact asks for it, the
transformer model; plus, unless `include_dependencies` is off, the wheels of
`[project].dependencies` and of the artifact's extras for its Lambda platform (manylinux,
its CPython version), installed with pip into a staging directory. boto3 and its family are
left out by default: the Lambda Python runtime provides them.
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

# Lambda's limits for a zip deployment (AWS Lambda quotas, "Deployment package (.zip file
# archive) size"): 50 MB zipped for a direct upload, 250 MB unzipped.
LAMBDA_ZIPPED_LIMIT = 50 * 1024 * 1024
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024

# Zip's epoch: the earliest timestamp a zip entry can carry.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644

EXCLUDED_SOURCE_DIRS = ("services/local", "services/scoring/training", "services/traffic")
# The transformer tier's files: in the analysis artifact only.
TRANSFORMER_DIR = "services/scoring/model/transformer"
TRANSFORMER_FILES = ("model.int8.onnx", "tokenizer.json", "metadata.json")
EXCLUDED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", "tests"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
# Provided by the Lambda Python runtime (and large: botocore alone is tens of megabytes).
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})


class PackageTooLargeError(RuntimeError):
    """The artifact exceeds one of Lambda's size limits."""


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


LAMBDA = Artifact("lambda", functions=("ingestion", "dashboard", "notification", "metrics"))
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

    @property
    def within_limits(self) -> bool:
        zipped_ok = self.upload == "s3" or self.zipped_bytes <= LAMBDA_ZIPPED_LIMIT
        return zipped_ok and self.unzipped_bytes <= LAMBDA_UNZIPPED_LIMIT

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "within_limits": self.within_limits}, indent=2)


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _extra_requirements(project: dict[str, Any], extra: str, seen: frozenset[str]) -> list[str]:
    """The requirements of one extra; a self-reference (`name[other]`) expands `other`."""
    groups = project.get("optional-dependencies", {})
    if extra not in groups:
        raise ValueError(f"pyproject.toml has no optional dependencies named {extra!r}")
    own_name = _requirement_name(project["name"])
    found: list[str] = []
    for requirement in map(str, groups[extra]):
        if _requirement_name(requirement) != own_name:
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
    return [r for r in requirements if _requirement_name(r) not in RUNTIME_PROVIDED]


def _excluded(relative: Path, excluded_dirs: Sequence[str]) -> bool:
    posix = relative.as_posix()
    if any(posix == d or posix.startswith(d + "/") for d in excluded_dirs):
        return True
    return bool(EXCLUDED_PARTS.intersection(relative.parts)) or posix.endswith(EXCLUDED_SUFFIXES)


def project_files(root: Path, *, with_transformer: bool = False) -> dict[str, Path]:
    """Archive name -> file of every project file that goes into the artifact; the
    transformer model's folder only `with_transformer`."""
    excluded_dirs = (
        EXCLUDED_SOURCE_DIRS if with_transformer else (*EXCLUDED_SOURCE_DIRS, TRANSFORMER_DIR)
    )
    files: dict[str, Path] = {}
    for path in sorted((root / "services").rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not _excluded(relative, excluded_dirs):
            files[relative.as_posix()] = path
    return files


def check_transformer_files(root: Path) -> None:
    """Raise FileNotFoundError unless the transformer model's files are all present."""
    missing = [name for name in TRANSFORMER_FILES if not (root / TRANSFORMER_DIR / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{TRANSFORMER_DIR}/ lacks {', '.join(missing)}: the analysis artifact carries the "
            "transformer model (train it with `make model`)"
        )


def _dependency_files(staging: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for path in sorted(staging.rglob("*")):
        relative = path.relative_to(staging)
        if path.is_file() and not (
            "__pycache__" in relative.parts or relative.as_posix().endswith(EXCLUDED_SUFFIXES)
        ):
            files[relative.as_posix()] = path
    return files


def install_dependencies(options: BuildOptions, staging: Path) -> None:
    """pip-install the artifact's requirements as Lambda-platform wheels into `staging`."""
    artifact = options.artifact
    requirements = runtime_requirements(
        options.root,
        exclude_runtime_provided=options.exclude_runtime_provided,
        extras=artifact.extras,
    )
    platforms = [flag for platform in artifact.platforms for flag in ("--platform", platform)]
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
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        artifact.python_version,
        "--only-binary=:all:",
    ]
    if options.constraints is not None:
        command += ["--constraint", str(options.constraints)]
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


def build_package(options: BuildOptions) -> BuildReport:
    """Build the zip at `options.output`; raise PackageTooLargeError past Lambda's limits
    (FileNotFoundError when an artifact with the transformer lacks its files)."""
    artifact = options.artifact
    if artifact.with_transformer:
        check_transformer_files(options.root)
    entries = project_files(options.root, with_transformer=artifact.with_transformer)
    with tempfile.TemporaryDirectory(prefix="lambda-build-") as tmp:
        if options.include_dependencies:
            staging = Path(tmp) / "deps"
            install_dependencies(options, staging)
            dependencies = _dependency_files(staging)
            clash = sorted(set(dependencies) & set(entries))
            if clash:
                raise RuntimeError(f"dependencies overwrite project files: {clash[:5]}")
            entries = {**dependencies, **entries}
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
    )
    if not report.within_limits:
        zipped_limit = "none: S3 upload" if artifact.upload == "s3" else LAMBDA_ZIPPED_LIMIT
        raise PackageTooLargeError(
            f"{options.output}: {zipped} bytes zipped (limit {zipped_limit}), "
            f"{unzipped} unzipped (limit {LAMBDA_UNZIPPED_LIMIT})"
        )
    return report
