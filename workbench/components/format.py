"""Markdown for what several panels show: an API call, an error, a merge report."""

from __future__ import annotations

import json
from datetime import datetime
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


def per_class_markdown(per_class: dict[str, dict[str, Any]], labels: list[str]) -> str:
    """Precision, recall, F1 and support per label, in `labels` order."""
    rows = ["| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for label in labels or list(per_class):
        figures = per_class.get(label, {})
        rows.append(
            f"| {label} | {figures.get('precision', 0):.3f} | {figures.get('recall', 0):.3f} "
            f"| {figures.get('f1', 0):.3f} | {figures.get('support', 0)} |"
        )
    return "\n".join(rows)


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


def seconds_until(iso: Any, now: datetime) -> float | None:
    try:
        when = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when - now).total_seconds()


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"
