"""The lock's format (`constraints.txt`), read by the Lambda build and written by `make lock`.

One `name==version` line per distribution: pip reads the file as constraints. A Lambda
artifact installs the same versions, except where its platform has no wheel of a pin (numpy
after 2.2 has none for python3.11's Amazon Linux 2): such a pin of the artifact's own is a
comment line, `# [lambda] numpy==2.2.6`, which pip skips and the build applies to that
artifact alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_ARTIFACT_PIN = re.compile(
    r"^#\s*\[(?P<artifact>[\w.-]+)\]\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)"
)


def canonical_name(name: str) -> str:
    """A distribution's name as the lock writes it (PEP 503: lower case, runs of `-_.` as -)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """The canonical name of the distribution a requirement names (`numpy<2.3` -> numpy)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return canonical_name(match.group(1))


def read_pins(text: str) -> dict[str, str]:
    """Name -> version of each `name==version` line of a lock or of `pip freeze` output."""
    pins: dict[str, str] = {}
    for line in text.splitlines():
        requirement = line.split("#", 1)[0].strip()
        name, separator, version = requirement.partition("==")
        if separator and name.strip() and not name.startswith("-"):
            pins[canonical_name(name.strip())] = version.strip()
    return pins


def read_artifact_pins(text: str) -> dict[str, dict[str, str]]:
    """Artifact name -> its own pins (name -> version), from the `# [artifact]` lines."""
    found: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        match = _ARTIFACT_PIN.match(line.strip())
        if match:
            pins = found.setdefault(match["artifact"], {})
            pins[canonical_name(match["name"])] = match["version"]
    return found


def pins_for_artifact(text: str, artifact: str) -> dict[str, str]:
    """The versions an artifact installs: the lock's, its own pins taking precedence."""
    return {**read_pins(text), **read_artifact_pins(text).get(artifact, {})}


def constraint_lines(pins: Mapping[str, str]) -> str:
    """A constraints file holding exactly `pins`."""
    return "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))
