"""Scenario results as pandas DataFrames, for the notebooks' tables and the charts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import pandas as pd

from services.traffic.report import rows
from services.traffic.scenarios.base import ScenarioResult

RECORD_COLUMNS = [
    "scenario", "method", "route", "status", "latency_ms", "started_s", "expected",
    "error_code", "cache", "retry_after", "failure", "outcome",
]  # fmt: skip


def records_frame(results: ScenarioResult | Sequence[ScenarioResult]) -> pd.DataFrame:
    """One row per request, with its `outcome`: ok, rate_limited, circuit_breaker or error."""
    chosen = [results] if isinstance(results, ScenarioResult) else list(results)
    records = [r for result in chosen for r in result.records]
    frame = pd.DataFrame(
        [
            {
                **asdict(r),
                "outcome": "ok"
                if r.ok
                else "rate_limited"
                if r.rate_limited
                else "circuit_breaker"
                if r.circuit_breaker
                else "error",
            }
            for r in records
        ],
        columns=RECORD_COLUMNS,
    )
    return frame


def summary_frame(results: Sequence[ScenarioResult]) -> pd.DataFrame:
    """The summary table as a frame (a total row when there are several scenarios)."""
    table = [
        {
            "scenario": name,
            "requests": s.requests,
            "success_pct": round(s.success_pct, 1),
            "errors": s.errors,
            "rate_limited": s.rate_limited,
            "circuit_breaker": s.circuit_breaker,
            "avg_ms": round(s.avg_ms, 1),
            "p50_ms": round(s.p50_ms, 1),
            "p95_ms": round(s.p95_ms, 1),
            "p99_ms": round(s.p99_ms, 1),
        }
        for name, s in rows(results)
    ]
    return pd.DataFrame(table).set_index("scenario")


def checks_frame(results: ScenarioResult | Sequence[ScenarioResult]) -> pd.DataFrame:
    chosen = [results] if isinstance(results, ScenarioResult) else list(results)
    return pd.DataFrame(
        [{"scenario": r.name, **asdict(c)} for r in chosen for c in r.checks],
        columns=["scenario", "name", "passed", "detail"],
    )


def timeline_frame(result: ScenarioResult) -> pd.DataFrame:
    """The circuits seen by a chaos or circuit-breaker run: time, service, state, failures."""
    return pd.DataFrame(
        result.details.get("timeline", []),
        columns=["t_s", "phase", "service", "state", "failures"],
    )


def sentiment_frame(body: object) -> pd.DataFrame:
    """A configuration's sentiment answer as one row per ticker and source."""
    tickers = body.get("tickers", []) if isinstance(body, dict) else []
    return pd.DataFrame(
        [
            {"ticker": t.get("symbol"), "source": source, **(view or {})}
            for t in tickers
            for source, view in (t.get("sentiment") or {}).items()
        ]
    )
