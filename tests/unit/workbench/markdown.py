"""Reading what a Markdown pane shows, for assertions on text that is escaped on its way in."""

from __future__ import annotations

import re

_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """`markdown` with its backslash escapes resolved: the characters a reader sees."""
    return _ESCAPED.sub(r"\1", markdown)
