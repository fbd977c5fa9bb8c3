"""`python -m infrastructure.packaging` (what `make package` runs): build build/lambda.zip."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infrastructure.packaging.build import BuildOptions, PackageTooLargeError, build_package


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infrastructure.packaging", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    parser.add_argument("--output", type=Path, default=Path("build/lambda.zip"))
    parser.add_argument(
        "--no-dependencies",
        action="store_true",
        help="the project's code only (no pip install), e.g. to check determinism offline",
    )
    parser.add_argument("--platform", default="manylinux2014_x86_64", help="wheel platform tag")
    parser.add_argument("--python-version", default="3.11")
    parser.add_argument("--constraints", type=Path, help="pip constraints file pinning versions")
    parser.add_argument(
        "--with-boto3", action="store_true", help="bundle boto3/botocore instead of the runtime's"
    )
    args = parser.parse_args(argv)
    options = BuildOptions(
        root=args.root.resolve(),
        output=args.output,
        include_dependencies=not args.no_dependencies,
        platform=args.platform,
        python_version=args.python_version,
        exclude_runtime_provided=not args.with_boto3,
        constraints=args.constraints,
    )
    try:
        report = build_package(options)
    except PackageTooLargeError as error:
        print(f"package too large: {error}", file=sys.stderr)
        return 1
    manifest = options.output.with_suffix(".json")
    manifest.write_text(report.to_json() + "\n")
    print(report.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
