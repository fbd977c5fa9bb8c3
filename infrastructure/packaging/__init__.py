"""A reproducible build of the Lambda zip (`build.py`): `python -m infrastructure.packaging`."""

from infrastructure.packaging.build import (
    LAMBDA_UNZIPPED_LIMIT,
    LAMBDA_ZIPPED_LIMIT,
    BuildOptions,
    BuildReport,
    PackageTooLargeError,
    build_package,
    project_files,
    runtime_requirements,
    write_deterministic_zip,
)

__all__ = [
    "LAMBDA_UNZIPPED_LIMIT",
    "LAMBDA_ZIPPED_LIMIT",
    "BuildOptions",
    "BuildReport",
    "PackageTooLargeError",
    "build_package",
    "project_files",
    "runtime_requirements",
    "write_deterministic_zip",
]
