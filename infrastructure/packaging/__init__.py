"""Reproducible builds of the Lambda zips (`build.py`): `python -m infrastructure.packaging`."""

from infrastructure.packaging.build import (
    ANALYSIS,
    ARTIFACTS,
    LAMBDA,
    LAMBDA_UNZIPPED_LIMIT,
    LAMBDA_ZIPPED_LIMIT,
    LOCK_FILE,
    Artifact,
    BuildOptions,
    BuildReport,
    PackageTooLargeError,
    build_package,
    project_contents,
    project_files,
    runtime_requirements,
    write_deterministic_zip,
)
from infrastructure.packaging.closure import ForbiddenImportError, import_closure

__all__ = [
    "ANALYSIS",
    "ARTIFACTS",
    "LAMBDA",
    "LAMBDA_UNZIPPED_LIMIT",
    "LAMBDA_ZIPPED_LIMIT",
    "LOCK_FILE",
    "Artifact",
    "BuildOptions",
    "BuildReport",
    "ForbiddenImportError",
    "PackageTooLargeError",
    "build_package",
    "import_closure",
    "project_contents",
    "project_files",
    "runtime_requirements",
    "write_deterministic_zip",
]
