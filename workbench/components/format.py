"""Markdown for what several panels show: an API call, an error, a merge report."""

from __future__ import annotations

import json
from typing import Any

from workbench.client import Problem


def problem_markdown(problem: Problem | None) -> str:
    """The envelope's message first (what a person reads), then its code and field."""
    if problem is None:
        return ""
    status = f"{problem.status} " if problem.status else ""
    field = f" (field: `{problem.field}`)" if problem.field else ""
    return f"**Error**: {problem.message}{field} \n<small>{status}{problem.code}</small>"


def call_markdown(call: dict[str, Any], *, empty: str, body: bool = True) -> str:
    """The request and its status; with `body`, the answer too (tokens already masked)."""
    if not call:
        return empty
    cache = f", X-Cache: {call['cache']}" if call.get("cache") else ""
    heading = f"`{call['request']}` → **{call['status']}** in {call['elapsed_ms']} ms{cache}"
    if not body or call.get("body") in (None, ""):
        return heading
    shown = json.dumps(call["body"], indent=2, ensure_ascii=False)
    return f"{heading}\n\n```json\n{shown}\n```"


def merge_markdown(merge: dict[str, Any]) -> str:
    if not merge:
        return ""
    meaning = {
        "upgraded": "the anonymous user became the account; everything kept",
        "moved": "configurations moved into the existing account, within its limit",
        "none": "no anonymous session came with the request: nothing to merge",
    }.get(str(merge.get("mode")), "")
    return (
        f"**Merge report**: `{merge.get('mode')}` ({meaning})\n\n"
        "| from user | configurations moved | not moved |\n|---|---|---|\n"
        f"| `{merge.get('from_user_id') or '-'}` | {merge.get('configurations_moved', 0)} "
        f"| {merge.get('configurations_not_moved', 0)} |"
    )
