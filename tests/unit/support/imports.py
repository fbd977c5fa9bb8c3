"""What a fresh interpreter has imported: for the tests that keep a heavy runtime out of what
a module's import, or its first use, loads."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence

from services.local.paths import project_root


def modules_loaded(statements: str, packages: Sequence[str]) -> list[str]:
    """The modules of `packages` loaded in a new Python process, at the project root, once it
    has run `statements`."""
    wanted = tuple(packages)
    probe = (
        f"{statements}\n"
        "import json, sys\n"
        f"print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in {wanted!r})))\n"
    )
    output = subprocess.check_output(
        [sys.executable, "-c", probe], text=True, cwd=project_root(), timeout=120
    )
    loaded: list[str] = json.loads(output)
    return loaded
