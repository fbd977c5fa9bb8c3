"""Reproducible builds of the Lambda zips (`build.py`): `python -m infrastructure.packaging`."""

from infrastructure.packaging.build import (
    ANALYSIS,
    ARTIFACTS,
    LAMBDA,
    LAMBDA_UNZIPPED_LIMIT,
    LAMBDA_ZIPPED_LIMIT,
    Artifact,
    BuildOptions,
    BuildReport,
    PackageTooLargeError,
    build_package,
    project_files,
    runtime_requirements,
    write_deterministic_zip,
)

__all__ = [
    "ANALYSIS",
    "ARTIFACTS",
    "LAMBDA",
    "LAMBDA_UNZIPPED_LIMIT",
    "LAMBDA_ZIPPED_LIMIT",
    "Artifact",
    "BuildOptions",
    "BuildReport",
    "PackageTooLargeError",
    "build_package",
    "project_files",
    "runtime_requirements",
    "write_deterministic_zip",
]
