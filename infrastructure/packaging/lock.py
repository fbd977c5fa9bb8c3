"""`make lock` (`python -m infrastructure.packaging.lock`): pin every Python distribution the
project installs in one file, `constraints.txt` (its format: `pins.py`).

pyproject.toml keeps version ranges; the lock holds one exact version of each distribution.
`make install` installs the project through it (`pip install -c constraints.txt -e ".[dev]"`,
still one step) and the Lambda build installs the artifacts' wheels through the same file.
Being constraints rather than requirements, a distribution the lock does not name (one only
another platform or Python needs) still installs, unpinned, instead of failing.

Each target is resolved by pip's own resolver (`pip install --dry-run --report`): the `dev`
extra for this interpreter first, then each Lambda artifact for its platform (manylinux
wheels, its CPython) within the `dev` versions. Where an artifact's platform has no wheel of
such a version it declares a cap (`Artifact.platform_caps` in build.py: numpy after 2.2 has
no wheel python3.11's Amazon Linux 2 can load); the artifact is resolved within the cap and
its own version recorded as a `# [artifact] name==version` line, which pip skips.

The lock's current pins are kept, so adding a requirement moves nothing else; `--upgrade`
drops them all (the newest versions the ranges and the platforms allow), `--upgrade-package
NAME` one. The `train` extra (`make model`, never run in CI) is not locked: its heavy pins
(torch, model2vec, the base weights) are exact in pyproject.toml already.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from infrastructure.packaging.build import (
    ARTIFACTS,
    LOCK_FILE,
    Artifact,
    lambda_platform_flags,
    runtime_requirements,
)
from infrastructure.packaging.pins import (
    canonical_name,
    constraint_lines,
    read_artifact_pins,
    read_pins,
    requirement_name,
)

PROJECT_NAME = "sentiment-deep-dive"
LOCKED_EXTRA = "dev"
PIP: tuple[str, ...] = (sys.executable, "-m", "pip")


@dataclass(frozen=True)
class Pin:
    """One locked distribution: its version and the Lambda artifacts that carry it."""

    version: str
    artifacts: tuple[str, ...] = ()


@dataclass
class Lock:
    """The pins, each artifact's own pins where its platform needs another version, and the
    interpreter `dev` was resolved for."""

    pins: dict[str, Pin] = field(default_factory=dict)
    artifact_pins: dict[str, dict[str, str]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Kept:
    """The pins a new lock starts from: the shared ones and the artifacts' own."""

    pins: dict[str, str] = field(default_factory=dict)
    artifact_pins: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolution:
    """What one pip resolution chose (name -> version), and for which interpreter."""

    versions: dict[str, str]
    environment: dict[str, str]


def resolve(
    requirements: Sequence[str],
    constraints: Sequence[str],
    *,
    cwd: Path,
    target_flags: Sequence[str] = (),
    pip: Sequence[str] = PIP,
) -> Resolution:
    """Resolve `requirements` with pip within `constraints` (nothing is installed);
    `target_flags` resolve for another platform and Python than this one."""
    with tempfile.TemporaryDirectory(prefix="lock-") as tmp:
        constraints_file = Path(tmp) / "constraints.txt"
        constraints_file.write_text("".join(f"{line}\n" for line in constraints))
        report = Path(tmp) / "report.json"
        command = [
            *pip,
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--dry-run",
            # Resolve everything, not only what this environment lacks.
            "--ignore-installed",
            "--report",
            str(report),
            "--constraint",
            str(constraints_file),
            *target_flags,
            *requirements,
        ]
        subprocess.run(command, check=True, cwd=cwd)
        data = json.loads(report.read_text(encoding="utf-8"))
    versions = {
        canonical_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in data["install"]
    }
    versions.pop(PROJECT_NAME, None)
    return Resolution(versions=versions, environment=data.get("environment", {}))


def _capped_names(artifact: Artifact) -> set[str]:
    return {requirement_name(cap) for cap in artifact.platform_caps}


def _artifact_constraints(lock: Lock, artifact: Artifact, kept: Kept) -> list[str]:
    """The lock's versions less the capped distributions, whose kept own pins and caps
    stand instead."""
    capped = _capped_names(artifact)
    own = {n: v for n, v in kept.artifact_pins.get(artifact.name, {}).items() if n in capped}
    pins = {n: pin.version for n, pin in lock.pins.items() if n not in capped} | own
    return [*constraint_lines(pins).splitlines(), *artifact.platform_caps]


def _add_artifact(lock: Lock, artifact: Artifact, versions: Mapping[str, str]) -> None:
    """Mark the lock's pins the artifact carries; a version of its own goes apart."""
    for name, version in versions.items():
        pin = lock.pins.get(name)
        if pin is not None and pin.version != version:
            lock.artifact_pins.setdefault(artifact.name, {})[name] = version
        elif pin is None:
            # Needed on the artifact's Python only: a pin of its own, harmless elsewhere.
            lock.pins[name] = Pin(version, (artifact.name,))
        else:
            lock.pins[name] = Pin(version, (*pin.artifacts, artifact.name))


def make_lock(root: Path, kept: Kept, pip: Sequence[str] = PIP) -> Lock:
    """`dev` for this interpreter within the kept pins, then every Lambda artifact for its
    platform within the versions `dev` got (and its caps)."""
    development = resolve(
        [f".[{LOCKED_EXTRA}]"], constraint_lines(kept.pins).splitlines(), cwd=root, pip=pip
    )
    lock = Lock(
        pins={name: Pin(version) for name, version in development.versions.items()},
        environment=development.environment,
    )
    for artifact in ARTIFACTS.values():
        resolution = resolve(
            runtime_requirements(root, extras=artifact.extras),
            _artifact_constraints(lock, artifact, kept),
            cwd=root,
            target_flags=lambda_platform_flags(artifact),
            pip=pip,
        )
        _add_artifact(lock, artifact, resolution.versions)
    lock.pins = dict(sorted(lock.pins.items()))
    return lock


def render(lock: Lock) -> str:
    """The lock file's text: what it is, how to remake it, one pin per line, then the
    artifacts' own pins."""
    environment = lock.environment
    where = (
        f"CPython {environment.get('python_version', '?')} on "
        f"{environment.get('sys_platform', '?')} {environment.get('platform_machine', '?')}"
    )
    header = (
        "# The lock: one exact version of every Python distribution that `make install`\n"
        f"# installs (the project's `{LOCKED_EXTRA}` extra) and that the Lambda artifacts carry\n"
        "# (named after the pin). pyproject.toml keeps the ranges. Remake this file with\n"
        '# `make lock` (it keeps these pins; ARGS="--upgrade-package NAME" moves one,\n'
        '# ARGS="--upgrade" all), never by hand. Installed as constraints:\n'
        f'#   pip install -c {LOCK_FILE} -e ".[{LOCKED_EXTRA}]"\n'
        f"# `{LOCKED_EXTRA}` was resolved for {where}, the artifacts for their Lambda runtimes;\n"
        "# a distribution only another platform needs installs unpinned.\n"
    )
    lines = [
        f"{name}=={pin.version}" + (f"  # {', '.join(pin.artifacts)}" if pin.artifacts else "")
        for name, pin in lock.pins.items()
    ]
    own = [
        f"# [{artifact}] {name}=={version}"
        for artifact, pins in sorted(lock.artifact_pins.items())
        for name, version in sorted(pins.items())
    ]
    if own:
        lines += [
            "",
            "# An artifact's own version where its platform has no wheel of the pin above",
            "# (build.py's `platform_caps`); the Lambda build reads these lines, pip skips them.",
            *own,
        ]
    return header + "\n".join(lines) + "\n"


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m infrastructure.packaging.lock",
        description="Pin every distribution of the `dev` extra and the Lambda artifacts.",
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    parser.add_argument("--output", type=Path, help=f"the lock (default: <root>/{LOCK_FILE})")
    parser.add_argument("--upgrade", action="store_true", help="drop every current pin")
    parser.add_argument(
        "--upgrade-package",
        action="append",
        default=[],
        metavar="NAME",
        help="drop this distribution's pin (repeatable)",
    )
    parser.add_argument(
        "--pins-from",
        type=Path,
        help="keep the pins of this file (e.g. `pip freeze` output) instead of the lock's",
    )
    return parser


def kept_pins(lock_file: Path, args: argparse.Namespace) -> Kept:
    """The pins the new lock starts from: the current lock's (or --pins-from's), less those
    asked to move."""
    source: Path = args.pins_from or lock_file
    if args.upgrade or not source.is_file():
        return Kept()
    text = source.read_text(encoding="utf-8")
    moved = {canonical_name(name) for name in args.upgrade_package} | {PROJECT_NAME}
    pins = {n: v for n, v in read_pins(text).items() if n not in moved}
    artifact_pins = {
        artifact: {n: v for n, v in own.items() if n not in moved}
        for artifact, own in read_artifact_pins(text).items()
    }
    return Kept(pins=pins, artifact_pins=artifact_pins)


def main(argv: list[str] | None = None) -> int:
    args = argument_parser().parse_args(argv)
    root = args.root.resolve()
    lock_file = args.output or root / LOCK_FILE
    try:
        lock = make_lock(root, kept_pins(lock_file, args))
    except subprocess.CalledProcessError:
        print(
            "pip could not resolve within the kept pins: a range in pyproject.toml may exclude "
            "one of them (move it with ARGS='--upgrade-package NAME', or all with --upgrade), "
            "or a Lambda platform has no wheel of a version (cap it in build.py's "
            "Artifact.platform_caps)",
            file=sys.stderr,
        )
        return 1
    lock_file.write_text(render(lock), encoding="utf-8")
    print(f"{lock_file}: {len(lock.pins)} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
