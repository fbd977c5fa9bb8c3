"""`python -m infrastructure.packaging` (what `make package` runs): build the Lambda artifacts,
build/lambda.zip and build/lambda-analysis.zip, each with its manifest (build/<name>.json)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infrastructure.packaging.build import (
    ARTIFACTS,
    LOCK_FILE,
    BuildOptions,
    PackageTooLargeError,
    build_package,
)
from infrastructure.packaging.closure import ForbiddenImportError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infrastructure.packaging", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    parser.add_argument("--output-dir", type=Path, default=Path("build"))
    parser.add_argument(
        "--artifact",
        choices=("all", *ARTIFACTS),
        default="all",
        help="which artifact to build (default: both)",
    )
    parser.add_argument(
        "--no-dependencies",
        action="store_true",
        help="the project's code only (no pip install), e.g. to check determinism offline",
    )
    parser.add_argument(
        "--constraints",
        type=Path,
        help=f"pip constraints file pinning versions (default: the lock, {LOCK_FILE}, if present)",
    )
    parser.add_argument(
        "--no-lock",
        action="store_true",
        help="resolve the wheels from pyproject.toml's ranges, ignoring the lock",
    )
    parser.add_argument(
        "--with-boto3", action="store_true", help="bundle boto3/botocore instead of the runtime's"
    )
    return parser


def _constraints(args: argparse.Namespace, root: Path) -> Path | None:
    """The pins the wheels are installed at: the lock unless another file or none is asked."""
    if args.constraints is not None:
        return Path(args.constraints).resolve()
    lock = root / LOCK_FILE
    return lock if lock.is_file() and not args.no_lock else None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    selected = list(ARTIFACTS) if args.artifact == "all" else [args.artifact]
    root = args.root.resolve()
    status = 0
    for key in selected:
        artifact = ARTIFACTS[key]
        options = BuildOptions(
            root=root,
            output=args.output_dir / f"{artifact.name}.zip",
            include_dependencies=not args.no_dependencies,
            artifact=artifact,
            exclude_runtime_provided=not args.with_boto3,
            constraints=_constraints(args, root),
        )
        try:
            report = build_package(options)
        except (PackageTooLargeError, ForbiddenImportError, FileNotFoundError) as error:
            print(f"{artifact.name}: {error}", file=sys.stderr)
            status = 1
            continue
        options.output.with_suffix(".json").write_text(report.to_json() + "\n")
        print(report.to_json())
    return status


if __name__ == "__main__":
    sys.exit(main())
