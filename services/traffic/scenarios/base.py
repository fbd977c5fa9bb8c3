"""What every scenario shares: its options (bounded), its result, and the ops calls."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from services.traffic.client import LONG_TIMEOUT_S, Answer, TrafficClient
from services.traffic.stats import RequestRecord, Summary, summarize

CHAOS_SCENARIOS = ("tiingo_500", "finnhub_500", "slow_upstream", "sendgrid_429")
# Bounds: a generator that can only ever send a bounded, modest amount of traffic.
MAX_USERS = 50
MAX_REQUESTS = 500
MAX_BURST = 200
MAX_WAIT_S = 600.0


class OptionsError(ValueError):
    """Options outside their bounds; the message names the option and its bounds."""


@dataclass(frozen=True)
class Options:
    """Every knob of the scenarios (the CLI's flags, the notebooks' parameters)."""

    users: int = 5
    requests: int = 10
    tickers: tuple[str, ...] = ("AAPL", "MSFT", "NVDA")
    ranges: tuple[str, ...] = ("1W", "1M", "3M")
    history_source: str = "aggregated"
    burst: int = 50
    # Wait for `Retry-After` once after the burst and check that one more request fits.
    verify_recovery: bool = True
    warm_requests: int = 10
    # `all` runs circuit-breaker (Tiingo) first; the chaos scenario defaults to another provider.
    chaos: str = "finnhub_500"
    # How long a fault is switched on for at most (it is switched off as soon as it is seen).
    chaos_duration_s: float = 120.0
    # How long to wait for a circuit to open, go half-open or close again.
    max_wait_s: float = 150.0
    poll_s: float = 0.5

    def validate(self) -> Options:
        def bounded(name: str, value: float, low: float, high: float) -> None:
            if not low <= value <= high:
                raise OptionsError(f"{name} must be between {low:g} and {high:g}, not {value:g}")

        bounded("users", self.users, 1, MAX_USERS)
        bounded("requests", self.requests, 1, MAX_REQUESTS)
        bounded("burst", self.burst, 1, MAX_BURST)
        bounded("warm_requests", self.warm_requests, 1, MAX_REQUESTS)
        bounded("chaos_duration_s", self.chaos_duration_s, 1, MAX_WAIT_S)
        bounded("max_wait_s", self.max_wait_s, 1, MAX_WAIT_S)
        bounded("poll_s", self.poll_s, 0.05, 10)
        if not self.tickers:
            raise OptionsError("tickers must name at least one ticker")
        if not self.ranges:
            raise OptionsError("ranges must name at least one range")
        if self.chaos not in CHAOS_SCENARIOS:
            raise OptionsError(
                f"chaos must be one of {', '.join(CHAOS_SCENARIOS)}, not {self.chaos!r}"
            )
        return self


@dataclass(frozen=True)
class Check:
    """One thing the scenario set out to show, and whether it did."""

    name: str
    passed: bool
    detail: str = ""


@dataclass
class ScenarioResult:
    name: str
    records: list[RequestRecord]
    checks: list[Check] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0

    @property
    def summary(self) -> Summary:
        return summarize(self.records)

    @property
    def unexpected(self) -> list[RequestRecord]:
        return [r for r in self.records if not r.expected]

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks) and not self.unexpected

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, bool(passed), detail))
        return bool(passed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "ok": self.ok,
            "duration_s": round(self.duration_s, 3),
            "summary": self.summary.as_dict(),
            "checks": [c.__dict__ for c in self.checks],
            "unexpected": [
                {
                    "method": r.method,
                    "route": r.route,
                    "status": r.status,
                    "error_code": r.error_code,
                    "failure": r.failure,
                }
                for r in self.unexpected
            ],
            "details": self.details,
        }


# -- ops calls (operator token) --------------------------------------------------------------


class OpsUnavailableError(Exception):
    """An ops route the scenario needs answered something else than 200."""


def _body(answer: Answer, what: str) -> dict[str, Any]:
    if answer.status != 200 or not isinstance(answer.body, dict):
        code = answer.error_code or answer.record.failure or f"HTTP {answer.status}"
        hint = " (is the operator token right?)" if answer.status == 401 else ""
        raise OpsUnavailableError(f"{what} answered {answer.status} {code}{hint}")
    return answer.body


async def circuits(client: TrafficClient) -> dict[str, Any]:
    answer = await client.request("GET", "/api/v2/ops/circuits", operator=True)
    return _body(answer, "GET /api/v2/ops/circuits")


async def switch_chaos(
    client: TrafficClient, scenario: str, enabled: bool, duration_s: float | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"scenario": scenario, "enabled": enabled}
    if duration_s is not None:
        body["duration_s"] = duration_s
    answer = await client.request("POST", "/api/v2/ops/chaos", operator=True, json_body=body)
    return _body(answer, f"switching {scenario} {'on' if enabled else 'off'}")


async def run_ingestion(client: TrafficClient) -> Answer:
    """One ingestion cycle now (local stack only: elsewhere 501, recorded as expected)."""
    return await client.request(
        "POST",
        "/api/v2/ops/ingestion/run",
        operator=True,
        expect={501},
        timeout_s=LONG_TIMEOUT_S,
    )


def require_operator(client: TrafficClient, scenario: str) -> None:
    if client.target.operator_token is None:
        raise OpsUnavailableError(
            f"the {scenario} scenario needs the operator token (locally .local/operator-token, "
            "written by the stack; for preprod/prod the <ENV>_OPERATOR_TOKEN variable)"
        )


async def wait_for_circuit(
    client: TrafficClient,
    service: str,
    states: set[str],
    deadline: float,
    poll_s: float,
) -> dict[str, Any] | None:
    """Poll `/ops/circuits` until `service` is in one of `states`; None at the deadline."""
    while True:
        circuit = (await circuits(client))["circuits"].get(service, {})
        if circuit.get("state") in states:
            return dict(circuit)
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(poll_s)


async def price_and_history(
    client: TrafficClient, ticker: str, range_name: str, source: str, bearer: str | None
) -> tuple[Answer, Answer]:
    """A ticker's daily candles and its sentiment history over one range (the overlay's two
    reads)."""
    ohlc = await client.request(
        "GET",
        f"/api/v2/tickers/{ticker}/ohlc",
        params={"range": range_name, "resolution": "D"},
        bearer=bearer,
        route="/api/v2/tickers/{ticker}/ohlc",
    )
    history = await client.request(
        "GET",
        f"/api/v2/tickers/{ticker}/sentiment/history",
        params={"range": range_name, "source": source},
        bearer=bearer,
        route="/api/v2/tickers/{ticker}/sentiment/history",
    )
    return ohlc, history
