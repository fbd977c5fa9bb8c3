"""What the provider adapters' tests share: the providers' answers recorded in
tests/fixtures/providers."""

from __future__ import annotations

import json
from pathlib import Path

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "providers"


def recorded(name: str) -> object:
    """The recorded answer `name`, parsed from its JSON."""
    return json.loads((RECORDED / name).read_text())
