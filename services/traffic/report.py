"""The results of a run as the summary table and as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.clock import iso, utc_now
from services.traffic.scenarios.base import ScenarioResult
from services.traffic.stats import Summary, format_table, summarize
from services.traffic.target import Target


def rows(results: Sequence[ScenarioResult]) -> list[tuple[str, Summary]]:
    table = [(r.name, r.summary) for r in results]
    if len(results) > 1:
        table.append(("total", summarize(rec for r in results for rec in r.records)))
    return table


def table(results: Sequence[ScenarioResult]) -> str:
    return format_table(rows(results))


def failures(results: Sequence[ScenarioResult]) -> list[str]:
    """One line per failed check and per unexpected answer."""
    lines = [
        f"{r.name}: {c.name} failed" + (f" ({c.detail})" if c.detail else "")
        for r in results
        for c in r.checks
        if not c.passed
    ]
    lines += [
        f"{r.name}: unexpected {rec.status or rec.failure} "
        f"{rec.error_code or ''} from {rec.method} {rec.route}".rstrip()
        for r in results
        for rec in r.unexpected
    ]
    return lines


def report(target: Target, results: Sequence[ScenarioResult]) -> dict[str, Any]:
    everything = summarize(rec for r in results for rec in r.records)
    return {
        "generated_at": iso(utc_now()),
        "target": target.describe(),
        "ok": all(r.ok for r in results),
        "total": everything.as_dict(),
        "scenarios": [r.as_dict() for r in results],
        "failures": failures(results),
    }
