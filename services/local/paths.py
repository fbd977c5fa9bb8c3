"""Where the embedded stack keeps its files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LocalPaths:
    """Files of the local stack under a project root (state in `.local/`)."""

    root: Path
    state_dir_override: Path | None = None

    @property
    def state_dir(self) -> Path:
        return self.state_dir_override or self.root / ".local"

    @property
    def dynamodb_dir(self) -> Path:
        return self.state_dir / "dynamodb"

    @property
    def stack_file(self) -> Path:
        return self.state_dir / "stack.json"

    @property
    def operator_token_file(self) -> Path:
        return self.state_dir / "operator-token"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"


def project_root() -> Path:
    """The checkout this package lives in (two levels above `services/local`)."""
    return Path(__file__).resolve().parents[2]
