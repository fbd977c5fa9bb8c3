"""Markdown for what several panels show: an API call, an error, a merge report; and the two
escapes every value from outside the page goes through before it joins Markdown.

Panel's Markdown pane passes raw HTML through, so a configuration name such as
`<img src=x onerror=alert(1)>` would run in the browser, and `**x**` or `[x](...)` would
change what the page says. Anything the API, a provider or a person typed is rendered with
`md_text` (or `md_code` inside backticks); only the page's own words are Markdown.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from workbench.client import Problem

# Every ASCII punctuation character: CommonMark lets each be backslash-escaped, and escaped
# they start no tag, entity, emphasis, link, autolink, heading, list, table cell or math.
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_BACKTICK_RUNS = re.compile(r"`+")


def one_line(value: Any) -> str:
    return " ".join(str(value).splitlines())


def md_text(value: Any) -> str:
    """`value` as literal text in Markdown (and in the HTML it becomes), on one line."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # a number carries no markup
    return _ASCII_PUNCTUATION.sub(r"\\\1", one_line(value))


def environment_name(environment: Any) -> str:
    """Which execution environment answered, as plain text: its instance id, and its pid
    where the stack is local (`unknown` when the API did not say, e.g. an older one)."""
    if not isinstance(environment, dict) or not environment.get("instance"):
        return "unknown"
    pid = environment.get("pid")
    return f"{one_line(environment['instance'])}" + (f" (pid {one_line(pid)})" if pid else "")


def md_code(value: Any, *, cell: bool = False) -> str:
    """`value` as an inline code span: backslashes do not escape inside one, so it is fenced
    with more backticks than it contains. In a table `cell`, pipes are escaped too (GFM
    splits cells before it reads code spans)."""
    text = one_line(value)
    if not text:
        return ""
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    if cell:
        text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


def problem_markdown(problem: Problem | None) -> str:
    """The envelope's message first (what a person reads), then its code and field."""
    if problem is None:
        return ""
    status = f"{problem.status} " if problem.status else ""
    field = f" (field: {md_code(problem.field)})" if problem.field else ""
    return (
        f"**Error**: {md_text(problem.message)}{field} \n"
        f"<small>{status}{md_text(problem.code)}</small>"
    )


def call_markdown(call: dict[str, Any], *, empty: str, body: bool = True) -> str:
    """The request and its status; with `body`, the answer too (tokens already masked)."""
    if not call:
        return empty
    cache = f", X-Cache: {md_text(call['cache'])}" if call.get("cache") else ""
    heading = (
        f"{md_code(call['request'])} → **{md_text(call['status'])}** in "
        f"{md_text(call['elapsed_ms'])} ms{cache}"
    )
    if not body or call.get("body") in (None, ""):
        return heading
    shown = json.dumps(call["body"], indent=2, ensure_ascii=False)
    # A fence longer than any backtick run in the answer: nothing in it can close the block.
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(shown)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{heading}\n\n{fence}json\n{shown}\n{fence}"


def per_class_markdown(per_class: dict[str, dict[str, Any]], labels: list[str]) -> str:
    """Precision, recall, F1 and support per label, in `labels` order."""
    rows = ["| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for label in labels or list(per_class):
        figures = per_class.get(label, {})
        rows.append(
            f"| {md_text(label)} | {figures.get('precision', 0):.3f} "
            f"| {figures.get('recall', 0):.3f} "
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
        f"**Merge report**: {md_code(merge.get('mode'))} ({meaning})\n\n"
        "| from user | configurations moved | not moved |\n|---|---|---|\n"
        f"| {md_code(merge.get('from_user_id') or '-', cell=True)} "
        f"| {md_text(merge.get('configurations_moved', 0))} "
        f"| {md_text(merge.get('configurations_not_moved', 0))} |"
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
