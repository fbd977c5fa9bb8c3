"""What the embedded stack tells its clients through files: its URLs and the operator token.

The stack starts `panel serve` before it writes `stack.json`, so both are read when needed,
never at import. Against a deployed API there are no such files and both reads come back empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from services.local.paths import LocalPaths, project_root
from services.settings import Settings


@dataclass(frozen=True)
class StackFiles:
    paths: LocalPaths

    @classmethod
    def from_settings(cls, settings: Settings) -> StackFiles:
        # The stack hands the workbench `LOCAL_STATE_DIR`; by hand it is `.local` in the checkout.
        override = Path(settings.local_state_dir) if settings.local_state_dir else None
        return cls(LocalPaths(root=project_root(), state_dir_override=override))

    def operator_token(self) -> str | None:
        """The bearer of the ops routes. Secret: callers keep it out of params and logs."""
        try:
            token = self.paths.operator_token_file.read_text().strip()
        except OSError:
            return None
        return token or None

    def url(self, name: str) -> str | None:
        """One URL of `stack.json` (`sendgrid_url`, `oidc_url`, ...), if the stack wrote it."""
        try:
            described = json.loads(self.paths.stack_file.read_text())
        except (OSError, ValueError):
            return None
        value = described.get(name) if isinstance(described, dict) else None
        return value if isinstance(value, str) and value else None
