"""The model card: the scorer's published figures, read from `services/scoring/model/card.json`.

The card is built offline with the model (`make model`) and shipped beside its weights; the
API only reads it. It is plain JSON on purpose: answering `GET /api/v2/ops/model` must not load
the model's runtime (numpy, onnxruntime, tokenizers) into the dashboard function.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

# services/ops -> services/scoring/model, without importing the scoring package.
CARD_FILE = Path(__file__).resolve().parents[1] / "scoring" / "model" / "card.json"


class ModelCardMissingError(FileNotFoundError):
    def __init__(self) -> None:
        super().__init__("the model card has not been built: run `make model`")


class ModelCardUnreadableError(ValueError):
    """The card is there but is not a JSON object."""


class ModelCardFile:
    """Reads the card on first use and keeps it for the process. A missing card is not
    remembered: built while the process runs (locally), it is found on the next read."""

    def __init__(self, path: Path = CARD_FILE) -> None:
        self.path = path
        self._card: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def read(self) -> dict[str, Any]:
        with self._lock:
            if self._card is None:
                self._card = _load(self.path)
            return self._card


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelCardMissingError() from None
    try:
        card = json.loads(text)
    except ValueError as error:
        raise ModelCardUnreadableError(f"the model card is not valid JSON: {error}") from None
    if not isinstance(card, dict):
        raise ModelCardUnreadableError("the model card is not a JSON object")
    return card
