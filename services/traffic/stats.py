"""What one request did, and the summary of many: the figures of the traffic generator's table.

A request is *successful* when it answered 2xx, *rate limited* when it answered 429, a
*circuit-breaker response* when it answered 503 with a provider's or e-mail's unavailability
(the resilience layer refusing or failing fast: `PROVIDER_UNAVAILABLE`, `EMAIL_UNAVAILABLE`,
`QUOTA_EXHAUSTED`), and an *error* otherwise (another status, or no answer at all, status 0).
Each request also says whether its status was one the scenario expected: a 429 in the
rate-limit burst is the point of it, a 404 in the basic flow is a bug.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

RATE_LIMITED = 429
# The 503 codes the resilience layer answers with when a provider is down, its circuit open
# or its quota spent; `STORE_UNAVAILABLE` (the table) is an error like any other.
CIRCUIT_CODES = frozenset({"PROVIDER_UNAVAILABLE", "EMAIL_UNAVAILABLE", "QUOTA_EXHAUSTED"})


class Answered:
    """Anything that carries an answer's HTTP status: `ok` when it is a success (2xx)."""

    __slots__ = ()
    status: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class RequestRecord(Answered):
    """One request: what was asked, what came back, how long it took (ms, wall clock)."""

    scenario: str
    method: str
    route: str
    status: int
    latency_ms: float
    started_s: float
    expected: bool = True
    error_code: str | None = None
    cache: str | None = None
    retry_after: str | None = None
    # A transport failure (no status): its exception's name.
    failure: str | None = None

    @property
    def rate_limited(self) -> bool:
        return self.status == RATE_LIMITED

    @property
    def circuit_breaker(self) -> bool:
        return self.status == 503 and self.error_code in CIRCUIT_CODES

    @property
    def error(self) -> bool:
        return not (self.ok or self.rate_limited or self.circuit_breaker)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between the closest ranks (numpy's
    default); NaN for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside [0, 100]")
    if not values:
        return math.nan
    return float(np.percentile(values, q))


@dataclass(frozen=True, slots=True)
class Summary:
    """The row of the summary table, and the counts behind it."""

    requests: int
    successes: int
    errors: int
    rate_limited: int
    circuit_breaker: int
    unexpected: int
    avg_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    duration_s: float
    status_counts: dict[str, int] = field(default_factory=dict)

    @property
    def success_pct(self) -> float:
        return 100.0 * self.successes / self.requests if self.requests else 0.0

    @property
    def rate_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["success_pct"] = round(self.success_pct, 2)
        body["rate_per_s"] = round(self.rate_per_s, 2)
        for key in ("avg_ms", "p50_ms", "p95_ms", "p99_ms"):
            body[key] = None if math.isnan(body[key]) else round(body[key], 2)
        body["duration_s"] = round(self.duration_s, 3)
        return body


def summarize(records: Iterable[RequestRecord]) -> Summary:
    """The summary of `records`; latencies over every request that got an answer."""
    records = list(records)
    answered = [r.latency_ms for r in records if r.status]
    if records:
        first = min(r.started_s for r in records)
        last = max(r.started_s + r.latency_ms / 1000 for r in records)
        duration = last - first
    else:
        duration = 0.0
    statuses = Counter(str(r.status) for r in records)
    return Summary(
        requests=len(records),
        successes=sum(r.ok for r in records),
        errors=sum(r.error for r in records),
        rate_limited=sum(r.rate_limited for r in records),
        circuit_breaker=sum(r.circuit_breaker for r in records),
        unexpected=sum(not r.expected for r in records),
        avg_ms=sum(answered) / len(answered) if answered else math.nan,
        p50_ms=percentile(answered, 50),
        p95_ms=percentile(answered, 95),
        p99_ms=percentile(answered, 99),
        duration_s=duration,
        status_counts=dict(sorted(statuses.items())),
    )


COLUMNS = (
    ("Scenario", 16),
    ("Requests", 8),
    ("Success %", 9),
    ("Errors", 6),
    ("Rate limited", 12),
    ("Circuit breaker", 15),
    ("Avg ms", 8),
    ("p50 ms", 8),
    ("p95 ms", 8),
    ("p99 ms", 8),
)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def format_table(rows: Sequence[tuple[str, Summary]]) -> str:
    """The summary table: one row per scenario, a total row when there are several."""
    header = "  ".join(
        name.ljust(width) if i == 0 else name.rjust(width)
        for i, (name, width) in enumerate(COLUMNS)
    )
    lines = [header, "-" * len(header)]
    for name, s in rows:
        cells = (
            name,
            str(s.requests),
            f"{s.success_pct:.1f}%",
            str(s.errors),
            str(s.rate_limited),
            str(s.circuit_breaker),
            _ms(s.avg_ms),
            _ms(s.p50_ms),
            _ms(s.p95_ms),
            _ms(s.p99_ms),
        )
        lines.append(
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, (_, width)) in enumerate(zip(cells, COLUMNS, strict=True))
            )
        )
    return "\n".join(lines)
