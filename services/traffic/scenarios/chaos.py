"""Chaos: a fault switched on inside the provider emulators through `POST /api/v2/ops/chaos`,
the calls that meet it, and the affected circuits watched through `GET /api/v2/ops/circuits`
until they open; then the fault is switched off and the circuits are watched through
half-open (after `CIRCUIT_OPEN_TIMEOUT_S`) back to closed, which one trial call does.

The calls that meet the fault: ingestion cycles (`POST /api/v2/ops/ingestion/run`) for Tiingo
and Finnhub, and what a user sees: prices (`/ohlc`, 503 `PROVIDER_UNAVAILABLE` when neither
the provider nor a cached copy answers) and a configuration's sentiment (`source_status`);
sign-in e-mails (`POST /api/v2/auth/magic-link`) for SendGrid, refused with 503
`EMAIL_UNAVAILABLE` (or accepted and queued where e-mails are queued for retry).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from services.traffic.client import TrafficClient
from services.traffic.scenarios.base import (
    OpsUnavailableError,
    Options,
    ScenarioResult,
    circuits,
    require_operator,
    run_ingestion,
    switch_chaos,
    wait_for_circuit,
)

NAME = "chaos"
DESCRIPTION = "a fault injected in the emulators (--chaos), circuits open, then recover"

SERVICES: dict[str, tuple[str, ...]] = {
    "tiingo_500": ("tiingo",),
    "finnhub_500": ("finnhub",),
    "slow_upstream": ("tiingo", "finnhub"),
    "sendgrid_429": ("sendgrid",),
}
# Price requests cycle through these, so some of them are not cached and reach the provider.
OHLC_VARIANTS = [(r, res) for res in ("30", "15", "5", "60", "D") for r in ("1W", "1M")]
# A trial that fails reopens the circuit; a few rounds of waiting and trying, at most.
MAX_TRIALS = 3


@dataclass
class Outage:
    """One run of a chaos scenario: the calls made and the circuits seen."""

    client: TrafficClient
    options: Options
    result: ScenarioResult
    scenario: str
    started: float = 0.0
    user: str | None = None

    def __post_init__(self) -> None:
        self.services = SERVICES[self.scenario]
        self.timeline: list[dict[str, Any]] = []
        self.ingestions: list[dict[str, Any]] = []
        self.emails: list[int] = []
        self.prices: list[dict[str, Any]] = []
        self.variants: Iterator[tuple[str, str]] = itertools.cycle(OHLC_VARIANTS)
        self.mails = itertools.count()

    @property
    def uses_email(self) -> bool:
        return self.services == ("sendgrid",)

    async def observe(self, phase: str) -> dict[str, dict[str, Any]]:
        """The circuits now, added to the timeline."""
        body = await circuits(self.client)
        states: dict[str, dict[str, Any]] = body["circuits"]
        at = round(time.monotonic() - self.started, 3)
        for service in self.services:
            circuit = states.get(service, {})
            self.timeline.append(
                {
                    "t_s": at,
                    "phase": phase,
                    "service": service,
                    "state": circuit.get("state"),
                    "failures": circuit.get("failures"),
                }
            )
        return states

    async def trigger(self, phase: str) -> None:
        """Calls that reach the affected providers (or are refused by their circuits)."""
        client = self.client
        if self.uses_email:
            answer = await client.request(
                "POST",
                "/api/v2/auth/magic-link",
                json_body={"email": f"traffic{next(self.mails)}@example.com"},
                expect={503},
            )
            self.emails.append(answer.status)
            return
        answer = await run_ingestion(client)
        if answer.ok and isinstance(answer.body, dict):
            self.ingestions.append(
                {
                    "phase": phase,
                    "fetched": answer.body.get("fetched"),
                    "errors": answer.body.get("errors"),
                    "new": answer.body.get("new"),
                }
            )
        if "tiingo" in self.services and self.user is not None:
            range_name, resolution = next(self.variants)
            ticker = self.options.tickers[0]
            prices = await client.request(
                "GET",
                f"/api/v2/tickers/{ticker}/ohlc",
                params={"range": range_name, "resolution": resolution},
                bearer=self.user,
                expect={503},
                route="/api/v2/tickers/{ticker}/ohlc",
            )
            self.prices.append(
                {
                    "phase": phase,
                    "status": prices.status,
                    "code": prices.error_code,
                    "cache": prices.record.cache,
                    "retry_after": prices.record.retry_after,
                }
            )

    async def sentiment_status(self) -> dict[str, Any] | None:
        """`source_status` of a new configuration's sentiment (a new one: never cached)."""
        bearer = await self.client.anonymous_session()
        if bearer is None:
            return None
        tickers = list(self.options.tickers[:5])
        config_id = await self.client.create_configuration(bearer, "Chaos", tickers)
        if config_id is None:
            return None
        answer = await self.client.request(
            "GET",
            f"/api/v2/configurations/{config_id}/sentiment",
            bearer=bearer,
            route="/api/v2/configurations/{config_id}/sentiment",
        )
        status = answer.body.get("source_status") if isinstance(answer.body, dict) else None
        return dict(status) if isinstance(status, dict) else None

    def all_in(self, states: dict[str, dict[str, Any]], wanted: set[str]) -> bool:
        return all(states.get(s, {}).get("state") in wanted for s in self.services)

    async def run(self) -> None:
        client, options, result = self.client, self.options, self.result
        require_operator(client, NAME)
        recorder = client.recorder
        self.started = time.monotonic()
        result.details.update({"chaos": self.scenario, "services": list(self.services)})

        before = await self.observe("before")
        threshold = max(int(before[s].get("threshold", 5)) for s in self.services)
        result.details["threshold"] = threshold
        if not self.all_in(before, {"closed"}):
            recorder.step("waiting for the circuits to close before the fault")
            await self.recover(deadline=time.monotonic() + options.max_wait_s)
        if not self.uses_email:
            self.user = await client.anonymous_session()

        recorder.step(f"switching {self.scenario} on")
        switched = await switch_chaos(client, self.scenario, True, options.chaos_duration_s)
        result.check("fault switched on", bool(switched.get("enabled")))
        try:
            opened = await self.until_open(threshold)
            if opened and not self.uses_email:
                result.details["source_status_during"] = await self.sentiment_status()
        finally:
            recorder.step(f"switching {self.scenario} off")
            off = await switch_chaos(client, self.scenario, False)
        result.check("fault switched off", not off.get("enabled"))
        result.check(
            "circuit opened",
            opened,
            f"{', '.join(self.services)} open after {len(self.ingestions) or len(self.emails)} "
            "triggering calls",
        )
        if not opened:
            self.finish()
            return
        recorder.step("waiting for the open timeout (half-open)")
        closed = await self.recover(deadline=time.monotonic() + options.max_wait_s)
        half_open_seen = any(e["state"] == "half_open" for e in self.timeline)
        result.check("circuit went half-open", half_open_seen)
        result.check("circuit closed again", closed)
        if closed and not self.uses_email:
            result.details["source_status_after"] = await self.sentiment_status()
        self.finish()

    async def until_open(self, threshold: int) -> bool:
        deadline = time.monotonic() + self.options.max_wait_s
        # Each trigger makes at least one failing call per service; a few more for luck.
        for n in range(threshold + 3):
            self.client.recorder.step(f"call {n + 1} meets the fault")
            await self.trigger("fault")
            states = await self.observe("fault")
            if self.all_in(states, {"open"}):
                # Now the circuits answer for the providers: one more call is refused at once.
                await self.trigger("open")
                await self.observe("open")
                return True
            if time.monotonic() >= deadline:
                break
        return False

    async def recover(self, deadline: float) -> bool:
        """Wait for half-open, make the trial call, until every circuit is closed."""
        options = self.options
        for _ in range(MAX_TRIALS):
            for service in self.services:
                found = await wait_for_circuit(
                    self.client, service, {"half_open", "closed"}, deadline, options.poll_s
                )
                await self.observe("waiting")
                if found is None:
                    return False
            states = await self.observe("half-open")
            if self.all_in(states, {"closed"}):
                return True
            await self.trigger("trial")
            states = await self.observe("trial")
            if self.all_in(states, {"closed"}):
                return True
        return False

    def finish(self) -> None:
        details = self.result.details
        details["timeline"] = self.timeline
        details["ingestions"] = self.ingestions
        details["prices"] = self.prices
        details["emails"] = self.emails
        states = [e["state"] for e in self.timeline]
        details["opened"] = "open" in states
        details["half_open"] = "half_open" in states
        details["closed_after"] = bool(states) and states[-1] == "closed" and details["opened"]
        details["recovery_s"] = _recovery_s(self.timeline)


def _recovery_s(timeline: list[dict[str, Any]]) -> float | None:
    """Seconds from the first open state seen to the last closed one after it."""
    opened = next((e["t_s"] for e in timeline if e["state"] == "open"), None)
    if opened is None:
        return None
    closed = [e["t_s"] for e in timeline if e["state"] == "closed" and e["t_s"] > opened]
    return round(closed[-1] - opened, 3) if closed else None


async def run(client: TrafficClient, options: Options, result: ScenarioResult) -> None:
    await outage(client, options, result, options.chaos)


async def outage(
    client: TrafficClient, options: Options, result: ScenarioResult, scenario: str
) -> None:
    try:
        await Outage(client, options, result, scenario).run()
    except OpsUnavailableError as error:
        result.check("ops routes answered", False, str(error))
